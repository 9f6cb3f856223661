"""The shapes of a refusal: what was wrong in words, a machine-readable code, and every field or row at
fault."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FieldErrorOut(BaseModel):
    field: str
    message: str


class ErrorOut(BaseModel):
    detail: str = Field(description="What was wrong, in words")
    code: str | None = Field(None, description="Machine-readable reason")
    errors: list[FieldErrorOut] = Field(default_factory=list, description="Every field at fault")


class RowErrorOut(BaseModel):
    row: int = Field(description="1-based position in 'accounts'")
    index: int = Field(description="0-based position in 'accounts'")
    field: str
    message: str


class RowErrorsOut(BaseModel):
    detail: str
    errors: list[RowErrorOut]
