import pytest

from diaryadmin.people.contacts import normalise_email, normalise_phone


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Ivanova@Mail.RU ", "Ivanova@mail.ru"),
        ("a.b+c@school-5.edu.ru", "a.b+c@school-5.edu.ru"),
        ("mailto:parent@yandex.ru", "parent@yandex.ru"),
        ("мама@почта.рф", "мама@почта.рф"),
    ],
)
def test_normalise_email(text, expected):
    assert normalise_email(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ivanova",
        "ivanova@mail",
        "a@@mail.ru",
        "a@b@mail.ru",
        "iva nova@mail.ru",
        "@mail.ru",
        "a@mail..ru",
        "a@.mail.ru",
        "a@-mail.ru",
        None,
        5,
    ],
)
def test_normalise_email_refuses(text):
    with pytest.raises(ValueError):
        normalise_email(text)


@pytest.mark.parametrize(
    "value",
    [
        "8 (912) 345-67-89",
        "+7 912 345 67 89",
        "+7(912)345-67-89",
        "9123456789",
        "89123456789",
        "7 912 345 67 89",
        79123456789,
        79123456789.0,
        9123456789.0,
        "8\u00a0912\u00a0345\u00a067\u00a089",
    ],
)
def test_normalise_phone_russian(value):
    assert normalise_phone(value) == "+79123456789"


def test_normalise_phone_other_countries():
    assert normalise_phone("+375 29 123-45-67") == "+375291234567"
    assert normalise_phone("+49 30 1234567") == "+49301234567"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "12345",
        "+7 912 345 67",
        "8 912 345 67 8",
        "4951234567",
        "+1234567",
        "тел. 8912",
        "+7 912 345 67 89 доб. 5",
        9123456789.5,
        True,
        None,
        "+1234567890123456",
    ],
)
def test_normalise_phone_refuses(value):
    with pytest.raises(ValueError):
        normalise_phone(value)
