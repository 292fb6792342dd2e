"""Fuzzing the configuration loader: whatever the input, a Config or a ConfigError, never a traceback.

SPEC §2: errors are reported as `FILE: KEY.PATH: message` lines; SPEC §2 end: "No command ever
answers bad input with a traceback"; SPEC §4: apprise URLs and their secrets never appear in an error.
Inputs: arbitrary text and bytes, generated TOML documents (through a small TOML writer below
and as dicts straight into parse_config), mutations of config.example.toml, and files that
are empty, binary, missing, directories, with a BOM, NUL bytes or in latin-1.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import tomllib
from conftest import EXAMPLE
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from mgremind.config.files import parse_toml
from mgremind.loader import load_config, parse_config
from mgremind.model import Config, ConfigError
from mgremind.plan import plan_days

SOURCE = "fuzz.toml"
BASE_DIR = Path("/nonexistent")
MARKER = "s3cr3t-token"

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)

# ---------------------------------------------------------------------------- the one rule


def check_error(error: ConfigError, source: str) -> None:
    """An error names its source at the start of every line it prints (SPEC §2: `FILE: KEY.PATH: message`)."""
    assert error.source == source
    assert error.problems, "a ConfigError without a problem"
    text = str(error)
    for line in text.splitlines():
        assert line.startswith(f"{source}: "), f"line {line!r} of {text!r}"
    assert len(text.splitlines()) == len(error.problems), f"a message spans several lines: {text!r}"


def outcome_of_document(document: Mapping[str, Any], source: str = SOURCE) -> Config | ConfigError:
    """parse_config on a parsed document: a Config (that plans a week) or a checked ConfigError."""
    try:
        config = parse_config(document, source, BASE_DIR, "UTC")
    except ConfigError as error:
        check_error(error, source)
        return error
    # An accepted configuration must also plan without an exception.
    plan_days(config, dt.date(2026, 3, 27), 7)
    return config


def outcome_of_text(text: str, source: str = SOURCE) -> Config | ConfigError:
    try:
        document = parse_toml(text, source)
    except ConfigError as error:
        check_error(error, source)
        return error
    return outcome_of_document(document, source)


def outcome_of_file(path: Path) -> Config | ConfigError:
    try:
        config = load_config(path, "UTC")
    except ConfigError as error:
        check_error(error, str(path))
        return error
    plan_days(config, dt.date(2026, 3, 27), 7)
    return config


# ---------------------------------------------------------------------------- a TOML writer

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else toml_string(key)


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"not a TOML value: {value!r}")


def _is_array_of_tables(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) for item in value)


def toml_document(document: Mapping[str, Any]) -> str:
    """A document with [tables] and [[arrays of tables]] for nested tables, inline values for the rest."""
    lines: list[str] = []

    def table(body: Mapping[str, Any], path: list[str]) -> None:
        for key, value in body.items():
            if not isinstance(value, dict) and not _is_array_of_tables(value):
                lines.append(f"{toml_key(key)} = {toml_value(value)}")
        for key, value in body.items():
            header = ".".join(toml_key(part) for part in [*path, key])
            if isinstance(value, dict):
                lines.append(f"[{header}]")
                table(value, [*path, key])
            elif _is_array_of_tables(value):
                for item in value:
                    lines.append(f"[[{header}]]")
                    table(item, [*path, key])

    table(document, [])
    return "\n".join(lines) + "\n"


def comparable(value: object) -> object:
    """NaN equal to NaN, for checking the writer."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, list):
        return [comparable(item) for item in value]
    if isinstance(value, dict):
        return {key: comparable(item) for key, item in value.items()}
    return value


# ---------------------------------------------------------------------------- strategies

ROOT_KEYS = ("timezone", "notify", "reminders", "meal", "supplement", "magnesium", "titration")
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "notify": ("urls", "config", "urls_file", "console", "title"),
    "reminders": ("lead", "catch_up", "retry_for"),
    "meal": ("name", "time", "days", "foods", "phytate"),
    "supplement": (
        "id",
        "name",
        "nutrient",
        "form",
        "unit",
        "mg_per_unit",
        "compound_mg_per_unit",
        "release",
        "step",
        "doses_per_day",
        "units_per_dose",
        "with",
        "units",
    ),
    "magnesium": (
        "daily_mg",
        "max_dose_mg",
        "slow_release_gap",
        "phytate",
        "phytate_gap",
        "phytate_foods",
        "calcium_ratio",
    ),
    "titration": ("start", "start_mg", "step_mg", "every_days"),
}
ALL_KEYS = tuple(sorted({*ROOT_KEYS, *(key for keys in TABLE_KEYS.values() for key in keys)}))

# Strings a configuration holds, right and wrong.
CONFIG_STRINGS = (
    "07:30",
    "7:05",
    "07:30:15",
    "7:75",
    "24:00",
    "23:59:60",
    "1h30m",
    "90s",
    "3d",
    "0m",
    "2h",
    "25h",
    "-1h",
    "1.5h",
    "",
    " ",
    "mon",
    "Monday",
    "funday",
    "move",
    "delay",
    "slow",
    "immediate",
    "magnesium",
    "Magnesium",
    "calcium",
    "vitamin D",
    "citrate",
    "oxide",
    "chloride",
    "ml",
    "tablet",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Pacific/Apia",
    "Not/AZone",
    "../../etc/passwd",
    "/etc/localtime",
    "America",
    "UTC\x00",
    "2026-11-20",
    "ntfy://topic",
    "breakfast",
    "lunch",
    "dinner",
    "lentil soup",
    "oatmeal",
    "a/b",
    "x+y",
    "line\nbreak",
    "tab\there",
    "para\u2028graph",
    "é",
)

_offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda minutes: dt.timezone(dt.timedelta(minutes=minutes)))
SCALARS: st.SearchStrategy[Any] = st.one_of(
    st.text(max_size=12),
    st.sampled_from(CONFIG_STRINGS),
    st.integers(-1000, 1000),
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([2**64, 10**309, -(10**309)]),  # tomllib has no integer limit; a float has
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.5, 1.0, 0.0, -0.0, 1e-300, 5e-324, 1e9, 1e10, 2.5]),
    st.booleans(),
    st.dates(),
    st.times(),
    st.datetimes(),
    st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1), timezones=_offsets),
)
VALUES: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(ALL_KEYS), st.text(max_size=8)), children, max_size=4),
    ),
    max_leaves=10,
)
KEYS = st.one_of(st.sampled_from(ALL_KEYS), st.text(max_size=10))


def plausible_table(name: str) -> st.SearchStrategy[dict[str, Any]]:
    """A table with mostly its own keys (and a random one now and then), holding random values."""
    return st.dictionaries(st.one_of(st.sampled_from(TABLE_KEYS[name]), KEYS), VALUES, max_size=6)


DOCUMENTS: st.SearchStrategy[dict[str, Any]] = st.one_of(
    st.dictionaries(KEYS, VALUES, max_size=6),
    st.fixed_dictionaries(
        {},
        optional={
            "timezone": st.one_of(st.sampled_from(CONFIG_STRINGS), VALUES),
            "notify": st.one_of(plausible_table("notify"), VALUES),
            "reminders": st.one_of(plausible_table("reminders"), VALUES),
            "meal": st.one_of(st.lists(plausible_table("meal"), max_size=3), VALUES),
            "supplement": st.one_of(st.lists(plausible_table("supplement"), max_size=3), VALUES),
            "magnesium": st.one_of(plausible_table("magnesium"), VALUES),
            "titration": st.one_of(plausible_table("titration"), VALUES),
        },
    ),
)


def example_document() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------- mutations

Path_ = tuple[str | int, ...]


def node_paths(node: object, prefix: Path_ = ()) -> Iterator[Path_]:
    """Every key or index below `node`, depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from node_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*prefix, index)
            yield from node_paths(value, (*prefix, index))


def parent_of(document: dict[str, Any], path: Path_) -> Any:
    node: Any = document
    for part in path[:-1]:
        node = node[part]
    return node


def get(document: dict[str, Any], path: Path_) -> Any:
    return parent_of(document, path)[path[-1]]


def typo(data: st.DataObject, key: str) -> str:
    """A misspelling: a letter dropped, doubled, swapped or changed, another case, a plural, a dash."""
    if not key:
        return "x"
    at = data.draw(st.integers(0, len(key) - 1))
    kind = data.draw(st.sampled_from(["drop", "double", "swap", "change", "upper", "plural", "dash"]))
    if kind == "drop":
        return key[:at] + key[at + 1 :] or "x"
    if kind == "double":
        return key[:at] + key[at] + key[at:]
    if kind == "swap" and at + 1 < len(key):
        return key[:at] + key[at + 1] + key[at] + key[at + 2 :]
    if kind == "change":
        return key[:at] + data.draw(st.sampled_from("aeiouxyz_ ")) + key[at + 1 :]
    if kind == "upper":
        return key.capitalize() if key != key.capitalize() else key.upper() + "X"
    if kind == "plural":
        return key + "s"
    return key.replace("_", "-") if "_" in key else key + "-"


def mutate(data: st.DataObject, document: dict[str, Any], protect: tuple[str, ...] = ()) -> list[str]:
    """Apply 1–4 random edits to `document` in place; returns what was done (for the failure report)."""
    done = []
    for _ in range(data.draw(st.integers(1, 4))):
        paths = [path for path in node_paths(document) if path[0] not in protect]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent = parent_of(document, path)
        key = path[-1]
        kind = data.draw(st.sampled_from(["delete", "replace", "rename", "empty", "duplicate"]))
        if kind == "delete":
            del parent[key]
        elif kind == "replace":
            parent[key] = data.draw(VALUES)
        elif kind == "rename" and isinstance(key, str):
            new = typo(data, key)
            if new in parent:
                continue
            parent[new] = parent.pop(key)
        elif kind == "empty" and isinstance(parent[key], (list, dict)):
            parent[key] = type(parent[key])()
        elif kind == "duplicate" and isinstance(parent, list) and isinstance(key, int):
            parent.append(parent[key])  # e.g. the same meal twice
        else:
            continue
        done.append(f"{kind} {path}")
    return done


# ---------------------------------------------------------------------------- arbitrary text and bytes


@FUZZ
@given(st.text())
def test_arbitrary_text(text: str) -> None:
    outcome_of_text(text)


@FUZZ
@given(st.binary(), st.sampled_from(["utf-8", "latin-1", "utf-16", "cp1252"]), st.sampled_from(["replace", "ignore"]))
def test_arbitrary_bytes_decoded(raw: bytes, encoding: str, errors: str) -> None:
    outcome_of_text(raw.decode(encoding, errors=errors))


# Lines that look like a configuration, right and wrong, to get past the TOML parser more often.
TOML_LINES = (
    "[notify]",
    "[reminders]",
    "[magnesium]",
    "[titration]",
    "[[meal]]",
    "[[supplement]]",
    'name = "breakfast"',
    'time = "07:30"',
    "time = 07:30:00",
    'time = "7:75"',
    'days = ["mon", "sat"]',
    "days = []",
    'foods = ["lentils"]',
    "phytate = true",
    'id = "mag"',
    'nutrient = "magnesium"',
    'unit = "tablet"',
    "mg_per_unit = 100",
    "mg_per_unit = -1",
    "mg_per_unit = nan",
    'release = "slow"',
    "doses_per_day = 3",
    'with = ["breakfast"]',
    "units = 1",
    "daily_mg = 300",
    "daily_mg = 1e400",
    "max_dose_mg = 0",
    'slow_release_gap = "8h"',
    'phytate = "delay"',
    "calcium_ratio = 1.0",
    "start = 2026-11-20",
    'start = "2026-11-20"',
    "step_mg = 50",
    "every_days = 0",
    'timezone = "Europe/Berlin"',
    'timezone = "Mars/Olympus"',
    'lead = "15m"',
    'urls = ["ntfy://topic"]',
    "console = yes",
    "x = [1, 2",
    'meal = "breakfast"',
    "name = ",
    "= 1",
)


@FUZZ
@given(st.lists(st.one_of(st.sampled_from(TOML_LINES), st.text(max_size=20)), max_size=25))
def test_configuration_like_text(lines: list[str]) -> None:
    outcome_of_text("\n".join(lines))


# ---------------------------------------------------------------------------- generated documents


@FUZZ
@given(DOCUMENTS)
def test_generated_documents_as_text_and_as_dicts(document: dict[str, Any]) -> None:
    text = toml_document(document)
    assert comparable(tomllib.loads(text)) == comparable(document), text  # the writer is right
    outcome_of_text(text)
    outcome_of_document(document)


@FUZZ
@given(st.data())
def test_mutations_of_the_example(data: st.DataObject) -> None:
    document = example_document()
    done = mutate(data, document)
    note(f"mutations: {done}")
    outcome_of_document(document)
    outcome_of_text(toml_document(document))


def test_the_example_itself_is_valid() -> None:
    # The base of the mutations: unmutated, both routes give a Config.
    assert isinstance(outcome_of_document(example_document()), Config)
    assert isinstance(outcome_of_text(toml_document(example_document())), Config)


# ---------------------------------------------------------------------------- values the tokenizer allows


@pytest.mark.parametrize(
    "text",
    [
        # An integer beyond a float (TOML has no upper bound in tomllib): "too large", not OverflowError.
        "[magnesium]\ndaily_mg = 1" + "0" * 400,
        "[magnesium]\nmax_dose_mg = 0x" + "f" * 300,
        # An integer of more digits than Python converts (4300) raises ValueError inside tomllib.
        "[magnesium]\ndaily_mg = 1" + "0" * 4400,
        # A duration with as many digits: ValueError from int() in the duration parser.
        '[reminders]\nlead = "' + "9" * 4400 + 'm"',
        # step × mg_per_unit underflows to 0.0: daily_mg / step divides by zero.
        '[[meal]]\nname = "a"\ntime = "07:00"\n[[supplement]]\nid = "m"\nnutrient = "magnesium"\n'
        'unit = "drop"\nmg_per_unit = 1e-200\nstep = 1e-200\n[magnesium]\ndaily_mg = 100',
    ],
    ids=["int-beyond-float", "hex-beyond-float", "int-over-4300-digits", "duration-over-4300-digits", "step-underflow"],
)
def test_extreme_numbers_are_config_errors(text: str) -> None:
    assert isinstance(outcome_of_text(text), ConfigError)


@pytest.mark.parametrize(
    "text",
    [
        '[magnesium]\nphytate = "mo\\nve"',  # echoed in "… is not one of"
        'timezone = "Europe/\\nBerlin"',
        '[[meal]]\nname = "break\\nfast"\ntime = "07:00"',
        '[[meal]]\nname = "a"\ntime = "07:\\r30"',
        '[[supplement]]\nid = "x\\ny"',
        '"new\\nkey" = 1',  # an unknown key is named in its key path
        '[reminders]\nlead = "1\\u2028h"',
    ],
)
def test_values_with_line_breaks_do_not_break_the_error_lines(text: str) -> None:
    # A value or key echoed in a message must not start a line that lacks the `FILE: ` prefix.
    assert isinstance(outcome_of_text(text), ConfigError)


# ---------------------------------------------------------------------------- secrets


URL_WITH_MARKER = (
    f"ntfy://{MARKER}",
    f"ntfy://ntfy.sh/{MARKER}",
    f"ntfys://user:{MARKER}@ntfy.example.org/topic",
    f"tgram://{MARKER}/123456",
    f"mailto://me:{MARKER}@gmail.com",
    f"json://example.org/?token={MARKER}",
    f"ntfy://example.org/topic#{MARKER}",
    f"{MARKER}://host",
)
NOT_URL_WITH_MARKER = (
    MARKER,
    f" {MARKER} ",
    f"http:/{MARKER}",
    f"//{MARKER}",
    f"1{MARKER}://host",
    f"ntfy://{MARKER}\nntfy://second",
)


def secret_values() -> st.SearchStrategy[Any]:
    marked = st.sampled_from(URL_WITH_MARKER + NOT_URL_WITH_MARKER)
    return st.one_of(
        marked,
        st.lists(st.one_of(marked, SCALARS), min_size=1, max_size=4),
        st.lists(st.lists(marked, max_size=2), min_size=1, max_size=2),
        st.dictionaries(st.sampled_from(["url", "token", "x"]), marked, min_size=1, max_size=2),
        st.sampled_from([f"/run/credentials/mgremind/{MARKER}", f"{MARKER}.yml", f"../{MARKER}/urls.txt"]),
    )


@FUZZ
@given(st.data())
def test_no_error_message_reveals_a_notify_value(data: st.DataObject) -> None:
    document = example_document()
    notify: dict[str, Any] = {"title": "Magnesium"}
    for key in data.draw(st.lists(st.sampled_from(["urls", "urls_file", "config"]), min_size=1, unique=True)):
        notify[key] = data.draw(secret_values(), label=key)
    notify.update(data.draw(st.dictionaries(st.sampled_from(["console", "title", "url", "tittle"]), SCALARS)))
    document["notify"] = notify
    if data.draw(st.booleans(), label="damage elsewhere"):
        mutate(data, document, protect=("notify",))

    outcomes = [outcome_of_document(document)]
    text = toml_document(document)
    outcomes.append(outcome_of_text(text))
    # And broken TOML around the secret: a character inserted or the text cut short.
    at = data.draw(st.integers(0, len(text)), label="at")
    broken = text[:at] + data.draw(st.sampled_from(['"', "[", "]", "=", "\n", "{", "\\", "'", ""])) + text[at:]
    outcomes.append(outcome_of_text(broken))
    outcomes.append(outcome_of_text(text[:at]))
    for outcome in outcomes:
        if isinstance(outcome, ConfigError):
            assert MARKER not in str(outcome), str(outcome)


def test_secret_is_not_echoed_for_a_url_list_of_the_wrong_shape() -> None:
    # The most direct cases, each surely an error in [notify].
    for notify in (
        f'urls = "ntfy://{MARKER}"',
        f'urls = ["{MARKER}"]',
        f'urls = [["ntfy://{MARKER}"]]',
        f'urls = {{ x = "ntfy://{MARKER}" }}',
        f'urls = [" ", "ntfy://{MARKER}", 3]',
        f'urls_file = ["{MARKER}"]',
        f'config = {{ path = "{MARKER}" }}',
        f'urls_file = ""\nconfig = "{MARKER}"',
        f'urls = ["ntfy://{MARKER}"]\nurl = "ntfy://{MARKER}"',
    ):
        text = EXAMPLE.read_text(encoding="utf-8").replace('[notify]\ntitle = "Magnesium"', "[notify]\n" + notify)
        assert notify in text
        outcome = outcome_of_text(text)
        assert isinstance(outcome, ConfigError), notify
        assert MARKER not in str(outcome), str(outcome)


# ---------------------------------------------------------------------------- files


def _example_bytes() -> bytes:
    return EXAMPLE.read_bytes()


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty", b"", "empty"),
        ("blank", b"  \n\t\n", "empty"),
        ("binary", bytes(range(256)), ""),
        ("nul", _example_bytes().replace(b"[reminders]", b"[remin\x00ders]"), ""),
        (
            "latin-1",
            ("# Fr\u00fchst\u00fcck\n" + EXAMPLE.read_text(encoding="utf-8")).encode("latin-1", "replace"),
            "UTF-8",
        ),
        ("utf-16", EXAMPLE.read_text(encoding="utf-8").encode("utf-16"), ""),
        ("bom-only", b"\xef\xbb\xbf", ""),
        ("invalid-utf8-in-string", _example_bytes().replace(b"Magnesium citrate", b"Magnesium \xed\xa0\x80"), ""),
    ],
)
def test_unusable_files_are_config_errors(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / f"{name}.toml"
    path.write_bytes(content)
    outcome = outcome_of_file(path)
    assert isinstance(outcome, ConfigError)
    assert reason in str(outcome)


def test_example_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    # Windows editors write a UTF-8 BOM; the file is still the example plan.
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + _example_bytes())
    outcome = outcome_of_file(path)
    assert isinstance(outcome, Config)
    assert [supplement.id for supplement in outcome.supplements] == [
        "slowmag",
        "citrate",
        "calcium",
        "bcomplex",
        "vitd",
    ]


def test_paths_that_are_not_files_are_config_errors(tmp_path: Path) -> None:
    directory = tmp_path / "a-directory"
    directory.mkdir()
    loop = tmp_path / "loop.toml"
    loop.symlink_to(loop)
    a_file = tmp_path / "file"
    a_file.write_text("x = 1\n", encoding="utf-8")
    for path, reason in (
        (directory, "directory"),
        (tmp_path / "missing.toml", "does not exist"),
        (loop, ""),
        (a_file / "config.toml", ""),  # a file where a directory should be
        (tmp_path / ("n" * 300 + ".toml"), ""),  # a name longer than the file system allows
    ):
        outcome = outcome_of_file(path)
        assert isinstance(outcome, ConfigError), path
        assert reason in str(outcome)


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.toml"
    path.write_bytes(_example_bytes())
    path.chmod(0)
    try:
        outcome = outcome_of_file(path)
    finally:
        path.chmod(0o600)
    if os.geteuid() == 0:  # root reads it anyway
        assert isinstance(outcome, Config)
    else:
        assert isinstance(outcome, ConfigError)
        assert "permission denied" in str(outcome).lower()


@settings(FUZZ, max_examples=60)
@given(st.binary(max_size=400), st.sampled_from([b"", b"\xef\xbb\xbf"]))
def test_arbitrary_bytes_in_a_file(tmp_path_factory: pytest.TempPathFactory, raw: bytes, prefix: bytes) -> None:
    path = tmp_path_factory.mktemp("bytes") / "config.toml"
    path.write_bytes(prefix + raw)
    outcome_of_file(path)


@settings(FUZZ, max_examples=40)
@given(st.data())
def test_mutated_example_files(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    document = example_document()
    mutate(data, document)
    path = tmp_path_factory.mktemp("mutated") / "config.toml"
    path.write_text(toml_document(document), encoding="utf-8")
    outcome_of_file(path)
