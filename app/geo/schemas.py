"""API shapes of gazetteer places, validated like the place importers, and their GeoJSON."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from app.geo.importers.records import ID_MAX, NAME_MAX, check_coordinates
from app.kit.text import NO_CONTROL
from app.kit.validation import not_null

PlaceId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=ID_MAX, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"),
    Field(description="letters, digits and . _ : - (it is part of URLs)"),
]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX, pattern=NO_CONTROL),
]
AltName = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=NAME_MAX, pattern=NO_CONTROL)
]
Admin = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100, pattern=NO_CONTROL)]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


class Point(BaseModel):
    """A GeoJSON point: coordinates are [longitude, latitude] (RFC 7946, 3.1.1)."""

    type: Literal["Point"]
    coordinates: list[float]


class PlaceRead(BaseModel):
    """A gazetteer entry."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    alt_names: list[str]
    lat: float
    lon: float
    admin1: str | None
    admin2: str | None


def _not_blank_position(lon: float | None, info: ValidationInfo) -> float | None:
    lat = info.data.get("lat")
    if lon is not None and lat is not None:
        check_coordinates(lat, lon)  # 0,0 is a blank position, not a place
    return lon


class PlaceWrite(BaseModel):
    """A place's fields as PUT replaces them (blank admin names are stored as unknown)."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    alt_names: list[AltName] = Field(default=[], max_length=100)
    lat: Latitude
    lon: Longitude
    admin1: Admin | None = Field(default=None, description="province")
    admin2: Admin | None = Field(default=None, description="territoire")

    _check_position = field_validator("lon")(_not_blank_position)


class PlaceCreate(PlaceWrite):
    """A new place; its id must be new."""

    id: PlaceId


class PlaceUpdate(BaseModel):
    """Fields of a place to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    alt_names: Annotated[list[AltName], Field(max_length=100)] | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    admin1: Admin | None = None
    admin2: Admin | None = None

    _check_set = field_validator("name", "alt_names", "lat", "lon")(not_null)
    _check_position = field_validator("lon")(_not_blank_position)


class PlaceProperties(BaseModel):
    """What the map shows of a place."""

    id: str
    name: str
    admin1: str | None
    admin2: str | None


class PlaceFeature(BaseModel):
    """One place as a GeoJSON Point feature ([longitude, latitude])."""

    type: Literal["Feature"]
    id: str
    geometry: Point
    properties: PlaceProperties


class PlaceFeatureCollection(BaseModel):
    """Every place of the gazetteer (RFC 7946)."""

    type: Literal["FeatureCollection"]
    features: list[PlaceFeature]
