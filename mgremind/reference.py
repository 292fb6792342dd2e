"""Built-in domain facts, each with its source.

Sources (full citations in the README and in shared/reference/magnesium-facts.md):

- SEED: M. R. London, fibromyalgia and magnesium (2007), the article the project grew from.
- ODS: US NIH Office of Dietary Supplements, Magnesium fact sheet for health professionals.
- formula: elemental fraction from the chemical formula with IUPAC standard atomic weights.
- phytate: general food-composition knowledge (phytate: bran, legumes, nuts, seeds).

Nothing here is medical advice: mgremind reminds a person of the plan they wrote and warns
where the plan crosses a published limit.
"""

from typing import NamedTuple

from mgremind.model import Form

# Elemental magnesium by form. Fractions: formula. Notes: SEED.
MAGNESIUM_FORMS: dict[str, Form] = {
    form.name: form
    for form in (
        Form("oxide", "MgO", 0.603, "poorly absorbed, low solubility, strong laxative effect", "formula; note SEED"),
        Form("hydroxide", "Mg(OH)2", 0.417, "", "formula"),
        Form("carbonate", "MgCO3", 0.288, "", "formula"),
        Form("citrate", "Mg3(C6H5O7)2", 0.162, "better absorbed than oxide", "formula; note SEED"),
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
            "well absorbed; the liquid form must be kept refrigerated",
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

# Other names people write for the same forms.
FORM_ALIASES: dict[str, str] = {
    "glycinate": "bisglycinate",
    "l-threonate": "threonate",
    "chloride hexahydrate": "chloride",
    "lactate dihydrate": "lactate",
    "sulfate heptahydrate": "sulfate",
    "sulphate": "sulfate",
}

FORMS_BY_NUTRIENT: dict[str, dict[str, Form]] = {
    "magnesium": MAGNESIUM_FORMS,
    "calcium": CALCIUM_FORMS,
}

# Units that mean a liquid; liquid magnesium chloride must be kept refrigerated (SEED).
LIQUID_UNITS = frozenset(
    {
        "ml",
        "milliliter",
        "millilitre",
        "l",
        "liter",
        "litre",
        "drop",
        "drops",
        "tsp",
        "teaspoon",
        "tbsp",
        "tablespoon",
        "dropper",
        "dropperful",
    }
)

# Tolerable Upper Intake Level for supplemental magnesium, adults, mg/day (ODS; IOM 1997).
SUPPLEMENTAL_MAGNESIUM_UL_MG = 350
UL_SOURCE = "ODS"

# Calcium:magnesium ratio: traditionally 2:1 (the ratio of their RDAs), many doctors suggest
# closer to 1:1 because magnesium is absorbed less well (SEED). Outside this range: a warning.
CALCIUM_RATIO_RANGE = (0.5, 2.0)
CALCIUM_RATIO_SOURCE = "SEED"

# Foods rich in phytic acid, which binds magnesium in the gut (SEED names whole wheat;
# the rest: phytate: bran, legumes, nuts, seeds). Matched as whole words, plural allowed.
PHYTATE_FOODS: tuple[str, ...] = (
    "whole wheat",
    "wholemeal",
    "wheat bran",
    "bran",
    "wheat germ",
    "oat",
    "oatmeal",
    "porridge",
    "muesli",
    "granola",
    "brown rice",
    "rye",
    "barley",
    "quinoa",
    "buckwheat",
    "millet",
    "bean",
    "lentil",
    "chickpea",
    "hummus",
    "pea",
    "soy",
    "tofu",
    "tempeh",
    "edamame",
    "peanut",
    "almond",
    "walnut",
    "cashew",
    "hazelnut",
    "pecan",
    "pistachio",
    "brazil nut",
    "nut butter",
    "sesame",
    "tahini",
    "flax",
    "linseed",
    "chia",
    "sunflower seed",
    "pumpkin seed",
    "hemp seed",
    "cocoa",
)
PHYTATE_SOURCE = "SEED (whole wheat); phytate: bran, legumes, nuts, seeds"


def find_form(nutrient: str, name: str) -> Form | None:
    """The known form `name` of `nutrient`, allowing the usual aliases; None if unknown."""
    forms = FORMS_BY_NUTRIENT.get(nutrient, {})
    key = name.strip().lower()
    return forms.get(FORM_ALIASES.get(key, key))


# ---------------------------------------------------------------------------- medicines to keep apart


class Interval(NamedTuple):
    """How long magnesium stays away from a medicine: `before` it is taken and `after`."""

    names: tuple[str, ...]  # the medicine and the members of its class, matched as whole words
    label: str  # what `check` calls it: "ciprofloxacin (quinolone)"
    before_hours: float
    after_hours: float
    source: str


# Named medicines first (LABEL: US prescribing information, "take X at least 2 h before or 6 h
# after Mg" means no magnesium within 6 h before X and 2 h after it); then classes (SMPC: UK
# summary of product characteristics of an oral magnesium medicine). The first match wins.
INTERVALS: tuple[Interval, ...] = (
    Interval(("ciprofloxacin",), "ciprofloxacin (quinolone)", 6, 2, "LABEL"),
    Interval(("levofloxacin",), "levofloxacin (quinolone)", 2, 2, "LABEL"),
    Interval(("moxifloxacin",), "moxifloxacin (quinolone)", 8, 4, "LABEL"),
    Interval(("levothyroxine", "thyroxine"), "levothyroxine", 4, 4, "LABEL"),
    Interval(("dolutegravir",), "dolutegravir (integrase inhibitor)", 6, 2, "LABEL"),
    Interval(("tetracycline", "tetracyclines", "doxycycline", "minocycline"), "tetracyclines", 3, 3, "SMPC"),
    Interval(("fluoride", "fluorides"), "fluorides", 3, 3, "SMPC"),
    Interval(("iron", "ferrous"), "iron", 4, 4, "SMPC"),
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
)
# Anything else: "2–3 h where possible" (SMPC). Zinc has no published interval; 2 h is a convention.
DEFAULT_INTERVAL_HOURS = 2.0
DEFAULT_INTERVAL_SOURCE = 'SMPC "2–3 h where possible"'


def find_interval(name: str) -> Interval | None:
    """The interval for a medicine named like `name` ("Doxycycline 100 mg" → tetracyclines)."""
    import re

    text = name.lower()
    for interval in INTERVALS:
        for member in interval.names:
            if re.search(rf"(?<!\w){re.escape(member)}(?!\w)", text):
                return interval
    return None
