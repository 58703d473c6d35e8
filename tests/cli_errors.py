"""The CLI's user-error contract, checked one way everywhere: exit code 2, no traceback,
one ``Error:`` line."""

from __future__ import annotations

from click.testing import CliRunner

from gridcoop.experiments.cli import main


def one_error_line(args: list[str]) -> str:
    """Run ``gridcoop ARGS``; assert it failed as a user error and return its error line."""
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, result.output
    return errors[0]
