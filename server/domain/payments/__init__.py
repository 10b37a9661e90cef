"""Payment gateways (simulator, cash, wallet), card checks and split-payment collection."""
