"""Users, roles, login, API tokens and the guards every route uses."""
