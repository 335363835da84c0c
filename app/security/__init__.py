"""Who may call us: client JWT verification (CDS Hooks 2.0) and the trusted-issuers registry."""
