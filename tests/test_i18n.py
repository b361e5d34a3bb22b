"""Messages in Russian or English: the language choice, the catalogues, and what a person sees."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from diaryadmin import i18n

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"DIARYADMIN_LANG": "ru"}, "ru"),
        ({"DIARYADMIN_LANG": "en", "LANG": "ru_RU.UTF-8"}, "en"),
        ({"LANG": "ru_RU.UTF-8"}, "ru"),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "ru_RU.UTF-8"}, "en"),
        ({"LANGUAGE": "ru:en", "LC_ALL": "C"}, "ru"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({}, "en"),
        ({"DIARYADMIN_LANG": "de", "LANG": "ru_RU"}, "ru"),
    ],
)
def test_language_comes_from_the_setting_then_the_locale(environ, expected):
    assert i18n.language_from_environment(environ) == expected


def test_the_catalogues_are_complete_and_compiled():
    """Stale, untranslated or fuzzy messages, or a .mo not compiled from its .po, fail here."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "catalogue.py"), "check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_the_compiled_catalogues_ship_with_the_package():
    assert (i18n.LOCALE_DIR / "ru" / "LC_MESSAGES" / "diaryadmin.mo").is_file()
    assert (i18n.LOCALE_DIR / "ru" / "LC_MESSAGES" / "click.mo").is_file()


def _run(*args: str, lang: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIARYADMIN_")}
    env.update(DIARYADMIN_LANG=lang, LANG="C.UTF-8")
    return subprocess.run(
        [sys.executable, "-m", "diaryadmin", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )


def test_help_is_russian_for_russian_users_and_english_on_request(tmp_path):
    ru = _run("school", "show", "--help", lang="ru", tmp_path=tmp_path)
    en = _run("school", "show", "--help", lang="en", tmp_path=tmp_path)
    assert ru.returncode == en.returncode == 0
    assert "Which school (when there are several)." in en.stdout
    assert "Which school" not in ru.stdout
    assert "Какая школа" in ru.stdout


def test_the_language_can_come_from_the_env_file(tmp_path):
    (tmp_path / ".env").write_text("DIARYADMIN_LANG=ru\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIARYADMIN_")}
    env["LANG"] = "C.UTF-8"
    result = subprocess.run(
        [sys.executable, "-m", "diaryadmin", "school", "show", "--help"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert "Какая школа" in result.stdout, result.stdout + result.stderr
