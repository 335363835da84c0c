"""CDS services: what each offers (catalog.py) and how a call is answered (pipeline.py)."""
