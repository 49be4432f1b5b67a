"""The ``cluster-opt`` command line."""
