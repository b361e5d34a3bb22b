"""diaryadmin completion bash|zsh|fish."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

from diaryadmin.context import AppContext, pass_app
from diaryadmin.i18n import _

SHELLS = ("bash", "zsh", "fish")
PROG_NAME = "diaryadmin"
COMPLETE_VAR = "_DIARYADMIN_COMPLETE"


def completion_script(root: click.Command, shell: str) -> str:
    """The script that makes `shell` complete diaryadmin's commands and options."""
    completion = get_completion_class(shell)
    if completion is None:  # click.Choice lets only SHELLS through
        raise click.UsageError(
            _("{shell}: not a shell diaryadmin can complete for.").format(shell=shell)
        )
    return completion(root, {}, PROG_NAME, COMPLETE_VAR).source()


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
@pass_app
@click.pass_context
def completion_command(ctx: click.Context, app: AppContext, shell: str) -> None:
    """Print the shell script that completes diaryadmin's commands and options on Tab.

    Put the line for your shell into its startup file once (bash 4.4 or newer); new
    terminals then complete `diaryadmin ro<Tab>` to `diaryadmin roster`.

    \b
    Example:
      eval "$(diaryadmin completion bash)"    # the line for ~/.bashrc
      eval "$(diaryadmin completion zsh)"     # the line for ~/.zshrc
      diaryadmin completion fish > ~/.config/fish/completions/diaryadmin.fish
    """
    app.out(completion_script(ctx.find_root().command, shell))
