"""Exporters: small modules that read results and write files with the csv/json modules."""
