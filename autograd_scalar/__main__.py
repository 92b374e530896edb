"""``python -m autograd_scalar EXPR [NAME=VALUE ...]``: see ``autograd_scalar.cli``."""

from .cli import console

if __name__ == "__main__":
    console()
