"""IRIs of the GeoSPARQL 1.1 vocabulary, functions, CRSs and units of measure."""

GEO = "http://www.opengis.net/ont/geosparql#"
GEOF = "http://www.opengis.net/def/function/geosparql/"
SF = "http://www.opengis.net/ont/sf#"
UOM = "http://www.opengis.net/def/uom/OGC/1.0/"
QUDT_UNIT = "http://qudt.org/vocab/unit/"
XSD = "http://www.w3.org/2001/XMLSchema#"

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CRS84_OGC_2 = "http://www.opengis.net/def/crs/OGC/0/CRS84"  # older spelling seen in the wild

WKT_LITERAL = GEO + "wktLiteral"
GEOJSON_LITERAL = GEO + "geoJSONLiteral"
GML_LITERAL = GEO + "gmlLiteral"
KML_LITERAL = GEO + "kmlLiteral"
DGGS_LITERAL = GEO + "dggsLiteral"
GEOMETRY_DATATYPES = (WKT_LITERAL, GEOJSON_LITERAL, GML_LITERAL, KML_LITERAL, DGGS_LITERAL)

# Properties whose objects are geometry serialisations; the loader validates their literals.
SERIALISATION_PROPERTIES = (GEO + "asWKT", GEO + "asGeoJSON", GEO + "asGML", GEO + "asKML", GEO + "asDGGS")

# Our SPARQL extension functions (eekg:nearest; docs/geosparql.md).
EEKG = "https://w3id.org/eekg/sparql#"

PREFIXES = {
    "eekg": EEKG,
    "geo": GEO,
    "geof": GEOF,
    "sf": SF,
    "uom": UOM,
    "xsd": XSD,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
}

XSD_DOUBLE = XSD + "double"
XSD_INTEGER = XSD + "integer"
XSD_BOOLEAN = XSD + "boolean"
XSD_STRING = XSD + "string"
XSD_ANY_URI = XSD + "anyURI"

EPSG_PREFIX = "http://www.opengis.net/def/crs/EPSG/0/"
OGC_CRS_PREFIX = "http://www.opengis.net/def/crs/"
EPSG_UOM = "http://www.opengis.net/def/uom/EPSG/0/"

GML32_NS = "http://www.opengis.net/gml/3.2"
GML311_NS = "http://www.opengis.net/gml"
KML_NS = "http://www.opengis.net/kml/2.2"

DATATYPE_NAMES = {
    WKT_LITERAL: "geo:wktLiteral",
    GEOJSON_LITERAL: "geo:geoJSONLiteral",
    GML_LITERAL: "geo:gmlLiteral",
    KML_LITERAL: "geo:kmlLiteral",
    DGGS_LITERAL: "geo:dggsLiteral",
}

# Simple Features class of each shapely/GEOS geometry type, for geof:geometryType.
SF_TYPES = {
    "Point": SF + "Point",
    "LineString": SF + "LineString",
    "LinearRing": SF + "LinearRing",
    "Polygon": SF + "Polygon",
    "MultiPoint": SF + "MultiPoint",
    "MultiLineString": SF + "MultiLineString",
    "MultiPolygon": SF + "MultiPolygon",
    "GeometryCollection": SF + "GeometryCollection",
}
