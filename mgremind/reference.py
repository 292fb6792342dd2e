"""Built-in domain facts, each with its source.

Sources (full citations in the README and in shared/reference/magnesium-facts.md):

- SEED: M. R. London, fibromyalgia and magnesium (2007), the article the project grew from.
- ODS: US NIH Office of Dietary Supplements, Magnesium fact sheet for health professionals.
- formula: elemental fraction from the chemical formula with IUPAC standard atomic weights.
- phytate: general food-composition knowledge (phytate: bran, legumes, nuts, seeds).

Nothing here is medical advice: mgremind reminds a person of the plan they wrote and warns
where the plan crosses a published limit.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Form:
    """A compound a mineral is sold as, with the share of it that is the element itself."""

    name: str
    compound: str
    elemental_fraction: float
    note: str
    source: str


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
