"""A deterministic, realistic school for the demo, the tests and the benchmarks.

Families share a surname and parents (siblings share guardians), some children are twins, and
a few cells are messy the way hand-typed school files are: Latin look-alike letters inside
Cyrillic names, class names like `5 а` or `5-A`, dates typed as text, names in capitals.
None of the mess is an error: an import reports it as warnings. Writing the school as the
files schools send, and the demo's roster step, live in `samples.roster_files`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from diaryadmin.people.names import full_name
from diaryadmin.schools import school_year_of

# (name, patronymic for a son, patronymic for a daughter)
MALE_NAMES = [
    ("Александр", "Александрович", "Александровна"),
    ("Алексей", "Алексеевич", "Алексеевна"),
    ("Андрей", "Андреевич", "Андреевна"),
    ("Артём", "Артёмович", "Артёмовна"),
    ("Борис", "Борисович", "Борисовна"),
    ("Вадим", "Вадимович", "Вадимовна"),
    ("Виктор", "Викторович", "Викторовна"),
    ("Владимир", "Владимирович", "Владимировна"),
    ("Григорий", "Григорьевич", "Григорьевна"),
    ("Дмитрий", "Дмитриевич", "Дмитриевна"),
    ("Евгений", "Евгеньевич", "Евгеньевна"),
    ("Егор", "Егорович", "Егоровна"),
    ("Иван", "Иванович", "Ивановна"),
    ("Игорь", "Игоревич", "Игоревна"),
    ("Илья", "Ильич", "Ильинична"),
    ("Кирилл", "Кириллович", "Кирилловна"),
    ("Константин", "Константинович", "Константиновна"),
    ("Максим", "Максимович", "Максимовна"),
    ("Михаил", "Михайлович", "Михайловна"),
    ("Никита", "Никитич", "Никитична"),
    ("Николай", "Николаевич", "Николаевна"),
    ("Олег", "Олегович", "Олеговна"),
    ("Павел", "Павлович", "Павловна"),
    ("Роман", "Романович", "Романовна"),
    ("Сергей", "Сергеевич", "Сергеевна"),
    ("Станислав", "Станиславович", "Станиславовна"),
    ("Тимофей", "Тимофеевич", "Тимофеевна"),
    ("Фёдор", "Фёдорович", "Фёдоровна"),
    ("Юрий", "Юрьевич", "Юрьевна"),
    ("Ярослав", "Ярославович", "Ярославовна"),
]
FEMALE_NAMES = [
    "Алёна", "Анастасия", "Анна", "Валерия", "Варвара", "Вера", "Виктория", "Дарья", "Ева",
    "Екатерина", "Елена", "Елизавета", "Ирина", "Ксения", "Любовь", "Марина", "Мария",
    "Надежда", "Наталья", "Ольга", "Полина", "Светлана", "София", "Татьяна", "Юлия",
]  # fmt: skip
# Surnames in the masculine form; the feminine form is derived.
SURNAMES = [
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
    "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
    "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв",
    "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв",
    "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев",
    "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов", "Беляев",
    "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов", "Марков", "Миронов",
    "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов", "Гаврилов", "Тихонов",
    "Казаков", "Афанасьев", "Данилов", "Савельев", "Тимофеев", "Фомин", "Чернов", "Абрамов",
    "Мартынов", "Ефимов", "Федотов", "Щербаков", "Назаров", "Калинин", "Исаев", "Чернышёв",
    "Быков", "Маслов", "Родионов", "Коновалов", "Лазарев", "Воронин", "Климов", "Филатов",
    "Пономарёв", "Голубев", "Кудрявцев", "Прохоров", "Наумов", "Потапов", "Журавлёв", "Овчинников",
    "Трофимов", "Леонов", "Соболев", "Ермаков", "Колесников", "Гончаров", "Емельянов", "Никифоров",
    "Грачёв", "Котов", "Гришин", "Ефремов", "Архипов", "Громов", "Кириллов", "Малышев",
    "Панов", "Моисеев", "Румянцев", "Акимов", "Кондратьев", "Бирюков", "Горбунов", "Анисимов",
    "Еремин", "Тихомиров", "Галкин", "Лукьянов", "Михеев", "Скворцов", "Юдин", "Белоусов",
    "Нестеров", "Симонов", "Прокофьев", "Харитонов", "Князев", "Цветков", "Левин", "Митрофанов",
    "Воронов", "Аксёнов", "Софронов", "Мальцев", "Логинов", "Горшков", "Савин", "Краснов",
    "Майоров", "Демидов", "Елисеев", "Рыбаков", "Сафонов", "Плотников", "Демин", "Хохлов",
    "Жданов", "Щукин", "Дорофеев", "Рябов", "Ершов", "Шестаков", "Лаптев", "Соловьев",
    "Вишневский", "Ковальский", "Островский", "Римский-Корсаков", "Шевченко", "Ким", "Бондаренко",
    "Мамедов", "Алиев", "Гасанов",
]  # fmt: skip
TURKIC = {"Мамедов", "Алиев", "Гасанов"}
LETTERS = "АБВГД"
EMAIL_DOMAINS = ["mail.ru", "yandex.ru", "gmail.com", "bk.ru", "list.ru", "inbox.ru"]
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIV", "XX"]
CERT_LETTERS = "АБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЭЮЯ"
_LATIN_LOOKALIKE = str.maketrans({"а": "a", "о": "o", "е": "e", "р": "p", "с": "c"})

_TRANSLIT = str.maketrans(
    {
        **dict(zip("абвгдеёзийклмнопрстуфыэ", "abvgdeeziiklmnoprstufye", strict=True)),
        "ж": "zh", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "",
        "ь": "", "ю": "iu", "я": "ia", "-": "",
    }
)  # fmt: skip


def feminine(surname: str) -> str:
    """The feminine form of a surname: Иванов → Иванова, Вишневский → Вишневская."""
    parts = []
    for part in surname.split("-"):
        if part.endswith(("ов", "ев", "ёв", "ин", "ын")):
            part += "а"
        elif part.endswith("ский"):
            part = part[:-2] + "ая"
        parts.append(part)
    return "-".join(parts)


@dataclass
class SampleGuardian:
    surname: str
    name: str
    patronymic: str | None
    relation: str  # mother | father
    email: str | None
    phone: str | None

    @property
    def full_name(self) -> str:
        return full_name(self.surname, self.name, self.patronymic)


@dataclass
class SampleStudent:
    external_id: str
    surname: str
    name: str
    patronymic: str | None
    birth_date: date
    class_name: str  # canonical, e.g. 5А
    certificate: str  # canonical, e.g. IV-МЮ 123456
    snils: str  # 11 digits
    guardians: list[SampleGuardian] = field(default_factory=list)
    # How the hand-typed file spells things (None: clean).
    messy_surname: str | None = None
    messy_class: str | None = None
    date_as_text: bool = False

    @property
    def full_name(self) -> str:
        return full_name(self.surname, self.name, self.patronymic)


def _snils(rng: random.Random) -> str:
    first = f"{rng.randint(2_000_000, 999_999_999):09d}"
    total = sum(int(d) * w for d, w in zip(first, range(9, 0, -1), strict=True))
    check = total if total < 100 else (0 if total in (100, 101) else total % 101 % 100)
    return f"{first}{check:02d}"


def _phone(rng: random.Random) -> str:
    return f"+79{rng.randint(0, 999_999_999):09d}"


def _birth_date(rng: random.Random, grade: int, school_year: int) -> date:
    # A first-former is 6 or 7 on 1 September: born between September and August.
    start = date(school_year - 6 - grade, 9, 1)
    return start + timedelta(days=rng.randrange(365))


def generate_school(
    students: int = 300,
    *,
    seed: int = 7,
    school_year: int | None = None,
    classes_per_grade: int | None = None,
    messy: bool = True,
) -> list[SampleStudent]:
    """A deterministic school of about `students` children in grades 1–11, families included.

    Every tenth family has two or three children, every fortieth child a twin; with `messy`,
    about one row in fifty has a look-alike Latin letter, an odd class spelling or a date
    typed as text. Names, certificates, SNILS and e-mails are unique where they must be.
    """
    rng = random.Random(seed)
    year = school_year if school_year is not None else school_year_of(date.today())
    per_grade = classes_per_grade or max(1, min(len(LETTERS), round(students / 11 / 25)))
    result: list[SampleStudent] = []
    seen_people: set[tuple[str, date]] = set()
    seen_certificates: set[str] = set()
    family = 0
    while len(result) < students:
        family += 1
        surname = rng.choice(SURNAMES)
        father_name, son_suffix, daughter_suffix = rng.choice(MALE_NAMES)
        father_patronymic = rng.choice(MALE_NAMES)[1]
        mother_patronymic = rng.choice(MALE_NAMES)[2]
        if surname in TURKIC and rng.random() < 0.5:
            son_suffix = f"{father_name} оглы"
            daughter_suffix = f"{father_name} кызы"
        domain = rng.choice(EMAIL_DOMAINS)
        login = surname.lower().translate(_TRANSLIT)
        mother = SampleGuardian(
            feminine(surname),
            rng.choice(FEMALE_NAMES),
            mother_patronymic,
            "mother",
            f"{login}.{family}@{domain}",
            _phone(rng),
        )
        father = SampleGuardian(
            surname,
            father_name,
            father_patronymic,
            "father",
            f"{login}{family}.papa@{domain}" if rng.random() < 0.5 else None,
            _phone(rng),
        )
        guardians = [mother, father] if rng.random() < 0.8 else [mother]
        roll = rng.random()
        children = 3 if roll < 0.02 else 2 if roll < 0.1 else 1
        grade = rng.randint(1, 11)
        birth = _birth_date(rng, grade, year)
        for child in range(children):
            twin = child > 0 and rng.random() < 0.3
            if child > 0 and not twin:
                grade = max(1, grade - rng.randint(1, 3))
                birth = _birth_date(rng, grade, year)
            if grade > 11:
                continue
            male = rng.random() < 0.5
            name = rng.choice(MALE_NAMES)[0] if male else rng.choice(FEMALE_NAMES)
            patronymic = son_suffix if male else daughter_suffix
            child_surname = surname if male else feminine(surname)
            if (f"{child_surname} {name} {patronymic}", birth) in seen_people:
                continue
            seen_people.add((f"{child_surname} {name} {patronymic}", birth))
            while True:
                certificate = (
                    f"{rng.choice(ROMAN)}-{rng.choice(CERT_LETTERS)}{rng.choice(CERT_LETTERS)} "
                    f"{rng.randint(0, 999_999):06d}"
                )
                if certificate not in seen_certificates:
                    seen_certificates.add(certificate)
                    break
            letter = LETTERS[rng.randrange(per_grade)]
            student = SampleStudent(
                external_id=f"S{len(result) + 1:06d}",
                surname=child_surname,
                name=name,
                patronymic=patronymic,
                birth_date=birth,
                class_name=f"{grade}{letter}",
                certificate=certificate,
                snils=_snils(rng),
                guardians=guardians,
            )
            if messy:
                mess = rng.random()
                if mess < 0.01:
                    student.messy_surname = child_surname.translate(_LATIN_LOOKALIKE)
                    if student.messy_surname == child_surname:
                        student.messy_surname = None
                elif mess < 0.02:
                    student.messy_class = rng.choice(
                        [f"{grade} {letter.lower()}", f"{grade}-{letter}", f'{grade}"{letter}"']
                    )
                    if letter == "А":
                        student.messy_class = f"{grade}A"  # a Latin A
                elif mess < 0.03:
                    student.date_as_text = True
            result.append(student)
            if len(result) >= students:
                break
    return result
