"""diaryadmin demo."""

from __future__ import annotations

from pathlib import Path

import click

from diaryadmin.context import AppContext, pass_app
from diaryadmin.i18n import _


@click.command("demo")
@click.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("diaryadmin-demo"),
    show_default=True,
    help="Folder for the demo's database, settings and files.",
)
@click.option("--force", is_flag=True, help="Empty a non-empty folder first.")
@pass_app
def demo_command(app: AppContext, output: Path, force: bool) -> None:
    """Walk the main job on a fresh SQLite database in a folder of its own.

    It never touches your own database or .env: everything lives under --output.

    \b
    Example:
      diaryadmin demo --output /tmp/diary-demo
    """
    from diaryadmin.samples.demo import run_demo

    demo = run_demo(output, force=force, say=app.say, operator=app.operator)
    app.say(_("Done. Everything is in {folder}").format(folder=demo.folder))
    for label, path in demo.files.items():
        app.out(f"{label}\t{path}")
