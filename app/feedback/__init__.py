"""Card feedback (CDS Hooks 2.0 §Feedback): validated, stored durably, reported per card kind."""
