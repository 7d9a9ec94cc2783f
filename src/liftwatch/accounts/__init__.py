"""Users, roles and the acting principal that services use for scoping."""
