"""QR codes on slips and in letters: the portal's sign-in page with the login (never the
password), printed on A4 with headless Chromium and read back with a real decoder (zbar)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from diaryadmin import letters, mail
from diaryadmin.models import School
from helpers import credentials as tc
from helpers import factories as f

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TOOLS = (CHROMIUM, shutil.which("pdftoppm"), shutil.which("zbarimg"))
needs_tools = pytest.mark.skipif(
    not all(tool and Path(tool).exists() for tool in TOOLS),
    reason="needs chromium, pdftoppm (poppler) and zbarimg (zbar)",
)
SCHOOL_PORTAL = "https://dnevnik.school7.ru/login"


@pytest.fixture
def fast(settings):
    return settings.with_overrides(**tc.FAST, portal_url="https://diary.school7.example")


@pytest.fixture
def issued(sessions, fast):
    """Eleven slips on four pages (5А takes three), long logins included."""
    with sessions.begin() as session:
        tc.make_roster(session)
        for n, (surname, name) in enumerate(
            [
                ("Римская-Корсакова", "Александра"),
                ("Константинопольский", "Вячеслав"),
                ("Щербакова", "Юлия"),
                ("Ли", "Ян"),
                ("Шарапова", "Евгения"),
                ("Жуков", "Илья"),
                ("Ёлкин", "Фёдор"),
            ]
        ):
            child = f.student(session, surname=surname, name=name, patronymic=None)
            f.guardian(session, child, surname=surname, name="Наталья", email=f"p{n}@example.org")
    return tc.issue(sessions, fast, all_=True).issued


def decode(png: Path) -> list[str]:
    """Every QR code zbar finds in an image."""
    result = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(png)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode in (0, 4), result.stderr  # 4: nothing found on that page
    return [line for line in result.stdout.splitlines() if line]


def print_to_png(html: Path, folder: Path) -> list[Path]:
    """Print as a parent's office would (A4, Chromium), then scan at 150 dpi."""
    pdf = folder / "slips.pdf"
    profile = folder / "chromium-profile"
    subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", f"--user-data-dir={profile}", "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}", html.as_uri(),
        ],
        capture_output=True,
        timeout=180,
        check=True,
    )  # fmt: skip
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", str(pdf), str(folder / "page")],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return sorted(folder.glob("page*.png"))


def test_every_slip_has_a_qr_code_with_the_login_and_never_the_password(issued, fast, tmp_path):
    html = letters.slips_html(issued, fast)
    assert html.count('class="qr"') == len(issued) == 11
    for c in issued:
        assert letters.login_link("https://diary.school7.example", c.login) in html
    links = [letters.login_link("https://diary.school7.example", c.login) for c in issued]
    assert all("password" not in link and c.password not in link for link, c in zip(
        links, issued, strict=True))  # fmt: skip
    assert letters.login_link("https://x.example/in?school=7", "a.b") == (
        "https://x.example/in?school=7&login=a.b"
    )


@pytest.mark.parametrize(
    "url",
    [
        letters.login_link("https://diary.school7.example", "petr.ivanov"),
        letters.login_link("https://x.example/in?school=7&a=<b>", "aleksandra.rimskaya-korsakova"),
        letters.login_link("https://дневник.школа7.рф/вход", "a.b"),
        letters.login_link("https://diary.school7.example", "v" * 300),  # a large version
    ],
)
def test_the_svg_is_segnos_own_drawing_of_the_same_code(url):
    import segno

    expected = segno.make(url, error="m", micro=False, mask=letters.QR_MASK).svg_inline(
        scale=letters.QR_MODULE_MM, unit="mm", border=4, title=url
    )
    assert str(letters.qr_svg(url)) == expected


def test_codes_drawn_while_hashing_are_the_codes_the_slips_would_draw(sessions, fast, monkeypatch):
    """issue_credentials(qr_codes=...) draws the codes while the passwords hash; the slips
    then print those very drawings (the same bytes as drawn at printing time) and draw
    none again."""
    from dataclasses import replace

    from diaryadmin.credentials import issue as issuing
    from diaryadmin.credentials.scope import select_guardianships

    with sessions.begin() as session:
        tc.make_roster(session)
    codes: dict[str, str] = {}
    with sessions.begin() as session:
        ids = select_guardianships(session, all_=True)
        result = issuing.issue_credentials(
            session, fast, ids, operator="test", now=tc.NOW, qr_codes=codes
        )
    issued = result.issued
    assert issued and all(c.qr_link for c in issued)
    assert sorted(codes) == sorted(letters.login_link(c.portal_url, c.login) for c in issued)
    drawn_afresh = letters.slips_html([replace(c, qr_link=None) for c in issued], fast)

    def no_drawing(url):
        raise AssertionError(f"drew {url} again")

    monkeypatch.setattr(letters, "_svg", no_drawing)
    assert letters.slips_html(issued, fast) == drawn_afresh


def test_a_code_drawn_for_another_login_is_not_printed(issued, fast):
    from dataclasses import replace

    url = letters.login_link("https://diary.school7.example", "someone.else")
    other = letters.QrLink(url, str(letters.qr_svg(url)))
    html = letters.slips_html([replace(c, qr_link=other) for c in issued], fast)
    assert other.svg not in html
    assert html == letters.slips_html([replace(c, qr_link=None) for c in issued], fast)


def test_credentials_issue_draws_the_codes_before_it_waits_for_the_hashes(
    run_cli, sessions, fast, monkeypatch, workdir
):
    """The command's main process draws the slips' QR codes while the pool hashes (before
    waiting for it), for the logins it then issues."""
    from diaryadmin.credentials import passwords

    with sessions.begin() as session:
        tc.make_roster(session)
    drawn, drawn_at_wait = [], []
    real_svg, real_wait = letters._svg, passwords.PasswordSupply.wait

    def svg(url):
        drawn.append(str(url))
        return real_svg(url)

    def wait(self, progress=None):
        drawn_at_wait.append(len(drawn))
        return real_wait(self, progress)

    monkeypatch.setattr(letters, "_svg", svg)
    monkeypatch.setattr(passwords.PasswordSupply, "wait", wait)
    result = run_cli("credentials", "issue", "--all", "--out", "s.html", env=tc.FAST_ENV)
    assert result.exit_code == 0, result.output
    slips = tc.read_slips(workdir / "s.html")
    links = [letters.login_link("https://diary.school7.example", s["login"]) for s in slips]
    assert drawn_at_wait[0] == len(slips) > 0
    assert sorted(drawn) == sorted(links)  # each drawn once, none again for the slips


def test_the_portal_address_is_the_schools_own_when_it_has_one(sessions, fast):
    with sessions.begin() as session:
        tc.make_roster(session)
        session.scalar(select(School)).portal_url = SCHOOL_PORTAL
    issued = tc.issue(sessions, fast, all_=True).issued
    html = letters.slips_html(issued, fast)
    assert f"{SCHOOL_PORTAL}?login={issued[0].login}" in html
    assert "diary.school7.example" not in html
    message = mail.credential_message(issued[0], fast)
    assert SCHOOL_PORTAL in message.get_body(("plain",)).get_content()


@needs_tools
def test_the_printed_slips_scan(issued, fast, tmp_path):
    path = letters.write_credentials_file(issued, tmp_path / "slips.html", fast)
    pages = print_to_png(path, tmp_path)
    assert len(pages) == 4  # 5А: 10 slips on three pages, 7Б: one
    found = [link for page in pages for link in decode(page)]
    expected = [letters.login_link("https://diary.school7.example", c.login) for c in issued]
    assert sorted(found) == sorted(expected)


@needs_tools
def test_the_letter_carries_the_same_code_inline(issued, fast, tmp_path):
    credential = next(c for c in issued if c.email)
    message = mail.credential_message(credential, fast)
    html = message.get_body(("html",))
    assert 'src="cid:login-qr"' in html.get_content()
    (image,) = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<login-qr>"
    png = tmp_path / "letter.png"
    png.write_bytes(image.get_content())
    link = letters.login_link("https://diary.school7.example", credential.login)
    assert decode(png) == [link]
