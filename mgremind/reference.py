"""Built-in domain facts, each with its source.

Sources (full citations in the README and in shared/reference/magnesium-facts.md):

- SEED: M. R. London, fibromyalgia and magnesium (2007), the article the project grew from.
- ODS: US NIH Office of Dietary Supplements, Magnesium fact sheet for health professionals.
- formula: elemental fraction from the chemical formula with IUPAC standard atomic weights.
- phytate: general food-composition knowledge (phytate: bran, legumes, nuts, seeds).

Nothing here is medical advice: mgremind reminds a person of the plan they wrote and warns
where the plan crosses a published limit.
"""

import datetime as dt
import functools
import re
from typing import NamedTuple

from mgremind.model import Form, hours_text

# The note on liquid magnesium chloride (SEED): a warning for a supplement in a liquid unit.
LIQUID_CHLORIDE_NOTE = "keep the liquid form refrigerated"

# Elemental magnesium by form (magnesium-facts.md, "Elemental magnesium by form"). Fractions:
# formula (each checked against the table there). Notes: SEED, each a separate clause ("; "), so
# that `check` can leave out one a warning already says.
MAGNESIUM_FORMS: dict[str, Form] = {
    form.name: form
    for form in (
        Form("oxide", "MgO", 0.603, "poorly absorbed, low solubility, strong laxative effect", "formula; note SEED"),
        Form("hydroxide", "Mg(OH)2", 0.417, "", "formula"),
        Form("carbonate", "MgCO3", 0.288, "", "formula"),
        Form("citrate", "Mg3(C6H5O7)2", 0.162, "better absorbed than oxide; common liquid form", "formula; note SEED"),
        Form("malate", "MgC4H4O5", 0.155, "", "formula"),
        Form(
            "bisglycinate",
            "Mg(C2H4NO2)2",
            0.141,
            "chelated; no published proof that chelates absorb best",
            "formula; note SEED",
        ),
        Form(
            "chloride",
            "MgCl2·6H2O",
            0.120,
            f"well absorbed; {LIQUID_CHLORIDE_NOTE}; time-released tablets exist",
            "formula; note SEED",
        ),
        Form(
            "lactate", "Mg(C3H5O3)2·2H2O", 0.102, "a time-released form exists (e.g. Mag-Tab SR)", "formula; note SEED"
        ),
        Form("sulfate", "MgSO4·7H2O", 0.099, "", "formula"),
        Form("taurate", "Mg(C2H6NO3S)2", 0.089, "", "formula"),
        Form("threonate", "Mg(C4H7O5)2", 0.083, "", "formula"),
        Form("aspartate", "Mg(C4H6NO4)2·2H2O", 0.075, "better absorbed than oxide", "formula; note SEED"),
        Form("orotate", "Mg(C5H3N2O4)2·2H2O", 0.066, "", "formula"),
        Form("gluconate", "Mg(C6H11O7)2", 0.059, "the liquid form carries glucose and additives", "formula; note SEED"),
    )
}

# Elemental calcium by form. Fractions: formula. Note: SEED.
CALCIUM_FORMS: dict[str, Form] = {
    form.name: form
    for form in (
        Form("carbonate", "CaCO3", 0.400, "offsets some of magnesium's laxative effect", "formula; note SEED"),
        Form("citrate", "Ca3(C6H5O7)2·4H2O", 0.211, "", "formula"),
    )
}

# Other names people write for the same forms; a hydrate only where the table above is of that
# hydrate (magnesium-facts.md names each compound as sold). A hydrate the reference does not give
# (citrate nonahydrate, 11.9 % by its formula, against the anhydrous 16.2 %) is not guessed at:
# the reader says which one mgremind knows (readers._read_form), and mg_per_unit is the way.
FORM_ALIASES: dict[str, str] = {
    "glycinate": "bisglycinate",
    "l-threonate": "threonate",
    "trimagnesium dicitrate": "citrate",
    "citrate anhydrous": "citrate",
    "anhydrous citrate": "citrate",
    "gluconate anhydrous": "gluconate",
    "anhydrous gluconate": "gluconate",
    "chloride hexahydrate": "chloride",
    "lactate dihydrate": "lactate",
    "sulfate heptahydrate": "sulfate",
    "sulphate": "sulfate",
    "sulphate heptahydrate": "sulfate",
    "aspartate dihydrate": "aspartate",
    "orotate dihydrate": "orotate",
}

# The compounds the reference names anhydrous where the form's name alone leaves the water of
# crystallisation open (magnesium-facts.md: "citrate (trimagnesium dicitrate, anhydrous)",
# "gluconate (anhydrous)"); `check` says so, the assumption behind compound_mg_per_unit.
ANHYDROUS_FORMS = frozenset({("magnesium", "citrate"), ("magnesium", "gluconate")})

FORMS_BY_NUTRIENT: dict[str, dict[str, Form]] = {
    "magnesium": MAGNESIUM_FORMS,
    "calcium": CALCIUM_FORMS,
}

# Units that mean a liquid (SPEC §2 v2: ml, millilitre, teaspoon, tsp, tablespoon, tbsp, fl oz,
# cc, drop), in the singular; a plural "s" is allowed (is_liquid_unit). Liquid magnesium chloride
# must be kept refrigerated (SEED).
LIQUID_UNITS = frozenset(
    {
        "ml",
        "milliliter",
        "millilitre",
        "cc",
        "l",
        "liter",
        "litre",
        "drop",
        "tsp",
        "teaspoon",
        "teaspoonful",
        "tbsp",
        "tablespoon",
        "tablespoonful",
        "fl oz",
        "fluid ounce",
        "dropper",
        "dropperful",
    }
)


def is_liquid_unit(unit: str) -> bool:
    """The unit is a liquid's: one of LIQUID_UNITS in the singular or plural ("teaspoons", "tbsps",
    "fl ozs"), any case, dots and spacing aside ("fl. oz", "Fl Oz", "mL")."""
    words = " ".join(unit.lower().replace(".", " ").split())
    return words in LIQUID_UNITS or (words.endswith("s") and words[:-1] in LIQUID_UNITS)


# Tolerable Upper Intake Level for supplemental magnesium, adults, mg/day (ODS; IOM 1997).
SUPPLEMENTAL_MAGNESIUM_UL_MG = 350
UL_SOURCE = "ODS"

# Calcium:magnesium ratio. SEED gives two ratios, no range: "traditionally 2:1 (the ratio of
# their RDAs); many doctors suggest closer to 1:1 because magnesium is absorbed less well". The
# range 0.5–2 outside which `check` warns is mgremind's own (its specification), not a published
# bound: a warning names it so, with the two ratios SEED gives.
CALCIUM_RATIO_RANGE = (0.5, 2.0)
CALCIUM_RATIO_SOURCE = "SEED: traditionally 2:1, the ratio of their RDAs; many doctors suggest closer to 1:1"

# Foods rich in phytic acid, which binds magnesium in the gut (SEED names whole wheat;
# the rest: phytate: bran, legumes, nuts, seeds). Matched as whole words, plural allowed.
# A space marks where a compound may be written apart, hyphenated or as one word (SPEC §2.1
# v2): "whole wheat" is also "whole-wheat" and "wholewheat", "whole meal" also "wholemeal".
PHYTATE_FOODS: tuple[str, ...] = (
    "whole wheat",
    "whole meal",
    "wheat bran",
    "bran",
    "wheat germ",
    "oat",
    "oat meal",
    "porridge",
    "muesli",
    "granola",
    "brown rice",
    "rye",
    "barley",
    "quinoa",
    "buck wheat",
    "millet",
    "bean",
    "lentil",
    "chick pea",
    "hummus",
    "pea",
    "soy",
    "tofu",
    "tempeh",
    "edamame",
    "pea nut",
    "almond",
    "walnut",
    "cashew",
    "hazel nut",
    "pecan",
    "pistachio",
    "brazil nut",
    "nut butter",
    "sesame",
    "tahini",
    "flax",
    "lin seed",
    "chia",
    "sun flower seed",
    "pumpkin seed",
    "hemp seed",
    "cocoa",
    # "whole grain/wholegrain, and the whole grains spelt, amaranth and teff belong with the
    # grains above" (reference, phytate: bran, legumes, nuts, seeds).
    "whole grain",
    "spelt",
    "amaranth",
    "teff",
)
PHYTATE_SOURCE = "SEED (whole wheat); phytate: bran, legumes, nuts, seeds"
# Other names of the entries above, each with the entry it stands for (reference: "soya, soybean
# (soy), flaxseed (flax)"; SPEC §2.1 v2: "wholemeal" for whole wheat, "linseed" for flaxseed).
# Matched like the entries; the spacing rule above covers wholewheat/whole-wheat.
PHYTATE_SYNONYMS: dict[str, str] = {
    "soya": "soy",
    "soy bean": "soy",
    "flax seed": "flax",
}


# What "mg" of a mineral is, where mgremind shows one: elemental mg, "mg Mg" (SPEC §2 v2).
ELEMENT_SYMBOLS = {"magnesium": "Mg", "calcium": "Ca"}


def form_text(nutrient: str, form: Form) -> str:
    """ "Mg3(C6H5O7)2, anhydrous, 16.2 % Mg (formula)": the compound a form's elemental share is of
    (where the name alone leaves the hydrate open, which one), and the share with its source."""
    anhydrous = ", anhydrous" if (nutrient, form.name) in ANHYDROUS_FORMS else ""
    share = f"{form.elemental_fraction * 100:.1f} % {ELEMENT_SYMBOLS.get(nutrient, nutrient)}"
    return f"{form.compound}{anhydrous}, {share} ({form.source.split(';')[0]})"


def find_form(nutrient: str, name: str) -> Form | None:
    """The known form `name` of `nutrient`, allowing the usual aliases; None if unknown."""
    forms = FORMS_BY_NUTRIENT.get(nutrient, {})
    key = name.strip().lower()
    return forms.get(FORM_ALIASES.get(key, key))


# ---------------------------------------------------------------------------- medicines to keep apart
#
# Sources of this section (full citations in shared/reference/magnesium-facts.md):
# - LABEL: US prescribing information of the named medicine (DailyMed), "Drug interactions".
# - SMPC: UK summary of product characteristics of an oral magnesium medicine (eMC 12118).
# - NAMES: brand names in the titles of the US labels on DailyMed and of EU/UK product
#   information (EMA, eMC), each standing for its active substance.
# - SPEC §7: the specification's own examples of names people write.


class Interval(NamedTuple):
    """How long magnesium stays away from a medicine: `before` it is taken and `after`."""

    names: tuple[str, ...]  # the medicine and the members of its class, as the source names them
    label: str  # what `check` calls it: "ciprofloxacin (quinolone)"
    before_hours: float
    after_hours: float
    source: str  # "LABEL"; for a name found through MEDICINE_NAMES, "NAMES: Cipro = ciprofloxacin; LABEL"

    @property
    def cited(self) -> str:
        """The interval with its source, as `check` shows it."""
        return f"{self.source}: {self.label}"


# Named medicines first (LABEL: "take X at least 2 h before or 6 h after Mg" means no magnesium
# within 6 h before X and 2 h after it); then classes (SMPC).
INTERVALS: tuple[Interval, ...] = (
    Interval(("ciprofloxacin",), "ciprofloxacin (quinolone)", 6, 2, "LABEL"),
    Interval(("levofloxacin",), "levofloxacin (quinolone)", 2, 2, "LABEL"),
    Interval(("moxifloxacin",), "moxifloxacin (quinolone)", 8, 4, "LABEL"),
    Interval(("levothyroxine",), "levothyroxine", 4, 4, "LABEL"),
    Interval(("dolutegravir",), "dolutegravir (integrase inhibitor)", 6, 2, "LABEL"),
    Interval(("tetracycline", "tetracyclines", "doxycycline", "minocycline"), "tetracyclines", 3, 3, "SMPC"),
    Interval(("fluoride", "fluorides"), "fluorides", 3, 3, "SMPC"),
    Interval(("iron",), "iron", 4, 4, "SMPC"),
    Interval(
        ("bisphosphonate", "bisphosphonates", "alendronate", "risedronate", "ibandronate"),
        "bisphosphonates",
        4,
        4,
        "SMPC",
    ),
    Interval(
        ("aminoquinoline", "aminoquinolines", "chloroquine", "hydroxychloroquine"), "aminoquinolines", 4, 4, "SMPC"
    ),
    Interval(("quinidine",), "quinidine", 4, 4, "SMPC"),
    Interval(("nitrofurantoin",), "nitrofurantoin", 4, 4, "SMPC"),
    Interval(("penicillamine",), "penicillamine", 4, 4, "SMPC"),
    Interval(("eltrombopag",), "eltrombopag", 4, 4, "SMPC"),
    Interval(("nitroxoline",), "nitroxoline", 4, 4, "SMPC"),
    Interval(("cellulose sodium phosphate",), "cellulose sodium phosphate", 1, 1, "SMPC"),
    Interval(("edetate disodium",), "edetate disodium", 1, 1, "SMPC"),
    # No published interval between magnesium and zinc was found: its 2 h is a convention, not
    # a label value (magnesium-facts.md), and is shown as one.
    Interval(("zinc",), "zinc, no published interval", 2, 2, "convention"),
)


class Names(NamedTuple):
    """Names people write for a medicine of INTERVALS: its brands and synonyms."""

    means: str  # a name in INTERVALS
    written: tuple[str, ...]
    source: str


# A brand stands for its active substance; a combination (Triumeq, Dovato, Juluca) for the one
# of its substances INTERVALS knows (NAMES: "takes the strictest row of its substances").
MEDICINE_NAMES: tuple[Names, ...] = (
    Names(
        "levothyroxine",
        ("Synthroid", "Levoxyl", "Unithroid", "Euthyrox", "Tirosint", "Eltroxin", "Eutirox", "L-thyroxine"),
        "NAMES",
    ),
    Names("levothyroxine", ("thyroxine", "T4"), "NAMES"),
    Names("ciprofloxacin", ("Cipro", "Ciproxin", "Ciprobay"), "NAMES"),
    Names("levofloxacin", ("Levaquin", "Tavanic"), "NAMES"),
    Names("moxifloxacin", ("Avelox", "Avalox"), "NAMES"),
    Names("dolutegravir", ("Tivicay", "Triumeq", "Dovato", "Juluca"), "NAMES"),
    Names("alendronate", ("Fosamax", "Binosto", "alendronic acid"), "NAMES"),
    Names("risedronate", ("Actonel", "Atelvia", "risedronic acid"), "NAMES"),
    Names("ibandronate", ("Boniva", "Bonviva", "ibandronic acid"), "NAMES"),
    Names("doxycycline", ("Vibramycin", "Doryx", "Oracea"), "NAMES"),
    Names("minocycline", ("Minocin", "Solodyn"), "NAMES"),
    Names(
        "iron",
        ("ferrous sulfate", "ferrous fumarate", "ferrous gluconate", "ferric maltol", "iron bisglycinate"),
        "NAMES",
    ),
    Names("iron", ("ferrous", "ferric"), "SPEC §7"),  # "ferrous or ferric salts → iron"
)

# Anything else: "2–3 h where possible" (SMPC).
DEFAULT_INTERVAL_HOURS = 2.0
DEFAULT_INTERVAL_SOURCE = 'SMPC "2–3 h where possible"'

_HYPHENS = frozenset("-\u2010\u2011")


class _Squeezed(NamedTuple):
    """A text lowercased without its spaces and hyphens, which matching ignores (SPEC §7 v2), and
    where each character left stood in the text."""

    text: str
    letters: str
    where: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> "_Squeezed":
        kept = [
            (index, low)
            for index, char in enumerate(text)
            if not (char.isspace() or char in _HYPHENS)
            for low in char.lower()
        ]
        return cls(text, "".join(low for _, low in kept), tuple(index for index, _ in kept))

    def spans(self, name: str, plural: bool = False) -> list[tuple[int, int]]:
        """Where `name` (squeezed) stands in the text as a word of its own: "iron" is not found in
        spironolactone, nor "Cipro" in ciprofibrate. A digit may follow ("Doxycycline100mg"), a letter
        may not, but for a plural "s" when `plural`. Spans are of the text as written."""
        found = []
        start = self.letters.find(name)
        while start >= 0:
            first = self.where[start]
            if first == 0 or not self.text[first - 1].isalnum():
                ends = [start + len(name)]
                if plural and self.letters.startswith("s", ends[0]):
                    ends.insert(0, ends[0] + 1)
                for end in ends:
                    after = self.where[end - 1] + 1
                    if after >= len(self.text) or not self.text[after].isalpha():
                        found.append((first, after))
                        break
            start = self.letters.find(name, start + 1)
        return found


class _Known(NamedTuple):
    letters: str  # the name, squeezed
    interval: Interval
    means: str  # the name in INTERVALS a brand or synonym stands for; "" for a name of INTERVALS
    source: str  # of the brand or synonym


@functools.cache
def _known_names() -> tuple[_Known, ...]:
    """Every name of INTERVALS and MEDICINE_NAMES, longest first: "ferrous sulfate" before "ferrous"."""
    by_name = {name: interval for interval in INTERVALS for name in interval.names}
    known = [_Known(_Squeezed.of(name).letters, interval, "", "") for name, interval in by_name.items()]
    known += [
        _Known(_Squeezed.of(written).letters, by_name[names.means], names.means, names.source)
        for names in MEDICINE_NAMES
        for written in names.written
    ]
    return tuple(sorted(known, key=lambda entry: -len(entry.letters)))


def find_interval(name: str) -> Interval | None:
    """The interval for a medicine named like `name` ("Doxycycline 100 mg" → tetracyclines, "Cipro"
    → ciprofloxacin); None when nothing in it is known. A name holding several medicines
    ("Cipro and iron") takes the longer side of each, as a combination takes its strictest row."""
    written = _Squeezed.of(name)
    taken: list[tuple[int, int]] = []
    found: dict[Interval, list[str]] = {}  # interval → how the name reached it ("NAMES: Cipro = ciprofloxacin")
    for known in _known_names():
        for start, end in written.spans(known.letters):
            if any(start < other_end and other_start < end for other_start, other_end in taken):
                continue  # part of a longer name already found: "thyroxine" in "L-thyroxine"
            taken.append((start, end))
            via = found.setdefault(known.interval, [])
            if known.means:
                via.append(f"{known.source}: {name[start:end]} = {known.means}")
    if not found:
        return None
    cited = "; ".join(dict.fromkeys(text for via in found.values() for text in via))
    if len(found) == 1:
        interval = next(iter(found))
        return interval._replace(source=f"{cited}; {interval.source}") if cited else interval
    intervals = list(found)
    sources = " + ".join(dict.fromkeys(interval.source for interval in intervals))
    return Interval(
        tuple(member for interval in intervals for member in interval.names),
        " + ".join(interval.label for interval in intervals) + ", the longer side of each",
        max(interval.before_hours for interval in intervals),
        max(interval.after_hours for interval in intervals),
        f"{cited}; {sources}" if cited else sources,
    )


def class_members(name: str) -> tuple[str, tuple[str, ...]] | None:
    """A class word in `name` that INTERVALS gives no interval of its own ("quinolone": its members'
    labels differ), and those members; None when `name` holds none."""
    classes: dict[str, list[str]] = {}
    for interval in INTERVALS:
        labelled = re.fullmatch(r"(.+) \((.+)\)", interval.label)  # "ciprofloxacin (quinolone)"
        if labelled:
            classes.setdefault(labelled.group(2), []).append(labelled.group(1))
    written = _Squeezed.of(name)
    for word, members in classes.items():
        if written.spans(_Squeezed.of(word).letters, plural=True):
            return word, tuple(members)
    return None


def _side_text(duration: dt.timedelta) -> str:
    """hours_text, keeping the seconds a side may be given in ("90s" → "1 min 30 s"): never "0 min"."""
    seconds = int(duration.total_seconds()) % 60
    if not seconds:
        return hours_text(duration)
    return f"{hours_text(duration)} {seconds} s" if duration >= dt.timedelta(minutes=1) else f"{seconds} s"


def window_text(before: dt.timedelta, after: dt.timedelta, medicine: str) -> str:
    """A medicine's window read from the magnesium's side (SPEC §7 v2). `before` is how long no
    magnesium is taken before the medicine, so magnesium goes at least `before` before it, or at
    least `after` after it: "take magnesium at least 6 h before or 2 h after ciprofloxacin"."""
    zero = dt.timedelta(0)
    if before <= zero and after <= zero:
        return f"magnesium is not kept apart from {medicine} (before and after are 0)"
    if after <= zero:
        return f"take magnesium at least {_side_text(before)} before {medicine}, or any time after it"
    if before <= zero:
        return f"take magnesium any time before {medicine}, or at least {_side_text(after)} after it"
    if before == after:
        return f"take magnesium at least {_side_text(before)} before or after {medicine}"
    return f"take magnesium at least {_side_text(before)} before or {_side_text(after)} after {medicine}"
