"""One module per ``nnlite`` subcommand; see ``nnlite.cli``."""
