"""Mock of the National Public Service Portal (Cổng DVCQG): SSO, payment platform, adapter, catalogue, journal."""
