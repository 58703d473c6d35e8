"""Where regions run (this process, worker processes) and the ledger replicas."""
