"""Command-line interface (placeholder while the foundation is written)."""

import typer

app = typer.Typer(no_args_is_help=True, add_completion=True)


@app.command()
def schema() -> None:
    """Print the target-file JSON Schema."""


def main() -> None:
    """Console-script entry point."""
    app()
