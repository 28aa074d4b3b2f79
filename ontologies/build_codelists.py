"""Generate ``codes/at-crop-2021.ttl``, the Austrian declared crop codes of 2021, from the EuroCrops table.

The table (``../shared/data/eurocrops/at_2021.csv`` from the project root; maja601/EuroCrops,
CC BY-SA 4.0) has one row per INVEKOS crop code: ``original_code, original_name`` (German),
``translated_name`` (English), the EuroCrops HCAT3 and HCAT2 classes. A row with an empty code
continues the mixed culture of the row above with a further component.

Each code becomes the concept ``atcrop:{code}`` with the German and English names as prefLabels, the
HCAT3 class of every component as a ``skos:note``, a mixed culture described in a ``skos:scopeNote``,
and a ``skos:broadMatch`` / ``skos:exactMatch`` to one of the 16 crop types chosen by the rules of
``crop_type_for``. Run it after the table or the rules change; a test checks the committed file::

    uv run python -m ontologies.build_codelists           # rewrite codes/at-crop-2021.ttl
    uv run python -m ontologies.build_codelists --check   # exit 1 if the file is out of date
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
CSV_PATH = (HERE.parent / ".." / "shared" / "data" / "eurocrops" / "at_2021.csv").resolve()
OUTPUT = HERE / "codes" / "at-crop-2021.ttl"


@dataclass(frozen=True)
class Component:
    """One crop of a declared code: its EuroCrops HCAT3 (and HCAT2) class."""

    hcat3_name: str
    hcat3_code: str
    hcat2_name: str
    hcat2_code: str


@dataclass
class DeclaredCrop:
    """One INVEKOS crop code with its names and components (more than one for a mixed culture)."""

    code: str
    name_de: str
    name_en: str
    components: list[Component] = field(default_factory=list)

    @property
    def main(self) -> Component:
        return self.components[0]


def read_table(path: Path = CSV_PATH) -> list[DeclaredCrop]:
    """The table's codes in file order; continuation rows become further components of the code above."""
    crops: list[DeclaredCrop] = []
    with path.open(encoding="utf-8", newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            component = Component(
                row["HCAT3_name"].strip(), row["HCAT3_code"].strip(), row["HCAT2_name"].strip(), row["HCAT2_code"].strip()
            )
            code = row["original_code"].strip()
            if code:
                crops.append(DeclaredCrop(code, row["original_name"].strip(), row["translated_name"].strip(), [component]))
            elif crops:
                crops[-1].components.append(component)
            else:
                raise ValueError(f"{path}, line {line}: a continuation row (empty original_code) before any code")
    codes = [c.code for c in crops]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise ValueError(f"{path}: crop codes listed twice: {duplicates}")
    return crops


# ---------------------------------------------------------------------------------------------
# Rules: declared crop -> crop type. First matching rule wins; a mixed culture goes by its main
# (first-declared) component, which is the crop a Sentinel-2 time series sees most of the season.

# Codes whose HCAT3 class would mislead, with the reason (kept in the output as an editorial note).
CODE_RULES: dict[str, tuple[str | None, str]] = {
    "303": ("rapeseed", "WINTERRÜBSEN is winter turnip rape (Brassica rapa, an oilseed), not beet; "
                        "the EuroCrops translation WINTER BEETS and HCAT3 beetroot_beets are mistaken."),
    "535": ("other-crops", "Spring (summer) caraway is not the winter caraway class."),
    "686": ("other-crops", "Miscanthus is a tall perennial energy grass, not grassland."),
    "821": ("permanent-plantations", "Hops are a perennial trellis crop, a permanent plantation."),
    "806": ("permanent-plantations", "Soil recovery of orchards and hop gardens is part of the plantation."),
    "721": ("grassland", "Grassland fallow is grassland that is not used."),
    "679": ("grassland", "Other field forage is herbaceous forage, grassland by the crop type's definition."),
    "810": ("other-crops", "Other special crops are farmed crops not in any named class."),
    "843": ("other-crops", "Protected cultivation is farmed crops not in any named class."),
}

# HCAT3 class of the main component -> crop type.
HCAT3_RULES: dict[str, str] = {
    **dict.fromkeys(("winter_common_soft_wheat", "winter_durum_hard_wheat", "winter_spelt"), "winter-wheat"),
    "winter_barley": "winter-barley",
    "spring_barley": "spring-barley",
    **dict.fromkeys(("rye", "winter_rye", "spring_rye"), "rye"),
    **dict.fromkeys(("winter_triticale", "spring_triticale"), "triticale"),
    **dict.fromkeys(("grain_maize_corn_popcorn", "green_silo_maize"), "maize"),
    **dict.fromkeys(("winter_rapeseed_rape", "summer_rapeseed_rape"), "rapeseed"),
    "potatoes": "potato",
    **dict.fromkeys(("sugar_beet", "mangelwurzel_fodder_beet", "beetroot_beets"), "beet"),
    "soy_soybeans": "soy",
    "sunflower": "sunflower",
    "caraway": "winter-caraway",  # only WINTERKÜMMEL reaches this rule (SOMMERKÜMMEL is a code rule)
    "vetches": "legumes",
    **dict.fromkeys(
        ("pasture_meadow_grassland_grass", "temporary_grass", "clover", "alfalfa_lucerne", "sod_turf"), "grassland"
    ),
}

# HCAT3 code prefix of the main component -> crop type (None: not a crop, left unmapped).
HCAT3_PREFIX_RULES: tuple[tuple[str, str | None], ...] = (
    ("330102", "legumes"),  # dry pulses: beans, peas, lentils, chickpeas, lupins, sainfoin
    ("3303", "permanent-plantations"),  # orchards, fruit and nut trees, berries, vineyards, nurseries
    ("3301", "other-crops"),  # every other arable crop, including arable fallow
    ("3305", "other-crops"),  # crops under glass or foil
    ("3302", "grassland"),
    ("3306", None),  # trees, woods, afforestation
    ("3308", None),  # unmaintained land
    ("3399", None),  # landscape elements and other non-crop areas
)

# Codes that are exactly one crop type (the rest are narrower, or mixed cultures): skos:exactMatch.
EXACT_CODES = {"110": "winter-barley", "111": "spring-barley", "307": "sunflower", "308": "soy", "536": "winter-caraway"}


def crop_type_for(crop: DeclaredCrop) -> tuple[str | None, str]:
    """The crop type (a ``crop:`` local name, or None for non-crop areas) and the rule that chose it.

    >>> crop_type_for(DeclaredCrop("138", "WINTERWEICHWEIZEN", "WINTER SOFT WHEAT",
    ...               [Component("winter_common_soft_wheat", "3301010101", "", "")]))
    ('winter-wheat', 'HCAT3 winter_common_soft_wheat')
    """
    if crop.code in CODE_RULES:
        return CODE_RULES[crop.code][0], f"code {crop.code}"
    main = crop.main
    if main.hcat3_name in HCAT3_RULES:
        return HCAT3_RULES[main.hcat3_name], f"HCAT3 {main.hcat3_name}"
    for prefix, crop_type in HCAT3_PREFIX_RULES:
        if main.hcat3_code.startswith(prefix):
            return crop_type, f"HCAT3 code {prefix}*"
    raise ValueError(f"crop code {crop.code} ({crop.name_de}): no rule for HCAT3 {main.hcat3_name} {main.hcat3_code}")


# ---------------------------------------------------------------------------------------------
# Turtle output

HEADER = """\
# GENERATED by ontologies/build_codelists.py from the EuroCrops table at_2021.csv; do not edit by hand.
# Derived from EuroCrops (maja601/EuroCrops, csvs/country_mappings/at_2021.csv), CC BY-SA 4.0:
# this file is shared under the same licence.

@prefix atcrop:  <https://w3id.org/eekg/codes/at-crop-2021/> .
@prefix crop:    <https://w3id.org/eekg/codes/crop-type/> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .

atcrop:scheme
    a skos:ConceptScheme ;
    skos:prefLabel "Austrian declared crop codes 2021 (INVEKOS)"@en , "Schlagnutzungsarten 2021 (INVEKOS)"@de ;
    skos:definition "The crop codes Austrian farmers declared their parcels with in 2021 (INVEKOS), with the EuroCrops English translation and HCAT3 class. A code declaring a mixed culture lists its components in a skos:scopeNote and one skos:note per component's HCAT3 class; its mapping to a crop type follows the main (first) component."@en ;
    dcterms:source <https://github.com/maja601/EuroCrops> ;
    dcterms:bibliographicCitation "Schneider, M., Schelte, T., Schmitz, F., Körner, M.: EuroCrops: The Largest Harmonized Open Crop Dataset Across the European Union. Scientific Data 10, 612 (2023). Table csvs/country_mappings/at_2021.csv." ;
    dcterms:license <https://creativecommons.org/licenses/by-sa/4.0/> ;
    dcterms:rights "Derived from EuroCrops (CC BY-SA 4.0); original crop codes and names: Agrarmarkt Austria (INVEKOS)." ;
    rdfs:seeAlso <https://w3id.org/eekg/codes/crop-type/scheme> .
"""


def _literal(text: str, lang: str | None = None) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"' + (f"@{lang}" if lang else "")


def _hcat_note(component: Component, further: bool) -> str:
    which = "EuroCrops HCAT3 (further component)" if further else "EuroCrops HCAT3"
    note = f"{which}: {component.hcat3_name} ({component.hcat3_code})"
    if (component.hcat2_name, component.hcat2_code) != (component.hcat3_name, component.hcat3_code):
        note += f"; HCAT2: {component.hcat2_name} ({component.hcat2_code})"
    return note


def _truncated(name: str) -> bool:
    """EuroCrops cut some English names at a comma of the German one, leaving a parenthesis open."""
    return name.count("(") > name.count(")")


def render_concept(crop: DeclaredCrop) -> str:
    """The Turtle block of one code."""
    lines = [
        f"atcrop:{crop.code}",
        "    a skos:Concept ; skos:inScheme atcrop:scheme ; skos:topConceptOf atcrop:scheme ;",
        f"    skos:notation {_literal(crop.code)} ;",
        f"    skos:prefLabel {_literal(crop.name_de, 'de')} , {_literal(crop.name_en, 'en')} ;",
    ]
    notes = [_hcat_note(c, further=i > 0) for i, c in enumerate(crop.components)]
    lines.append("    skos:note " + " ,\n        ".join(_literal(n, "en") for n in notes) + " ;")
    if len(crop.components) > 1:
        parts = "; ".join(f"{c.hcat3_name} (HCAT3 {c.hcat3_code})" for c in crop.components)
        scope = f"Mixed culture of {len(crop.components)} components, main crop first: {parts}."
        lines.append(f"    skos:scopeNote {_literal(scope, 'en')} ;")
    editorial = []
    if _truncated(crop.name_en):
        editorial.append(
            "The English name is cut short in the EuroCrops table (at a comma of the German name); "
            "the German name is complete."
        )
    crop_type, _rule = crop_type_for(crop)
    if crop.code in CODE_RULES:
        editorial.append(f"Crop type by code rule: {CODE_RULES[crop.code][1]}")
    if editorial:
        lines.append("    skos:editorialNote " + " , ".join(_literal(e, "en") for e in editorial) + " ;")
    if crop_type is not None:
        relation = "exactMatch" if EXACT_CODES.get(crop.code) == crop_type else "broadMatch"
        lines.append(f"    skos:{relation} crop:{crop_type} ;")
    lines[-1] = lines[-1][: -len(" ;")] + " ."
    return "\n".join(lines)


def render(crops: list[DeclaredCrop]) -> str:
    """The whole file, codes in numeric order (stable output for diffs)."""
    blocks = [render_concept(c) for c in sorted(crops, key=lambda c: (len(c.code), c.code))]
    return HEADER + "\n" + "\n\n".join(blocks) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the committed file is up to date")
    parser.add_argument("--csv", type=Path, default=CSV_PATH, help="the EuroCrops table (default: %(default)s)")
    args = parser.parse_args(argv)
    if not args.csv.exists():
        print(f"{args.csv} not found: the shared data folder must sit next to the project root.", file=sys.stderr)
        return 2
    text = render(read_table(args.csv))
    if args.check:
        if OUTPUT.exists() and OUTPUT.read_text(encoding="utf-8") == text:
            return 0
        print(f"{OUTPUT} is out of date; run: uv run python -m ontologies.build_codelists", file=sys.stderr)
        return 1
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.name}: {len(read_table(args.csv))} codes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
