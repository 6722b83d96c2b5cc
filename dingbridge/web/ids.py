"""Ids in URL paths: ``{space_id:int}`` and the like match 1 to 18 digits only.

Starlette's own ``int`` convertor takes any number of digits, and an id past the database's
64-bit integers (``/api/v1/spaces/99999999999999999999``) reached the query and failed there
(SQLite: ``OverflowError``, a 500). Every id the server hands out fits in 18 digits; a longer
one matches no route, a plain 404. Registered when :mod:`dingbridge.web` is imported, before
any route is declared (a route compiles its pattern when it is made).
"""

from __future__ import annotations

from starlette.convertors import IntegerConvertor, register_url_convertor


class IdConvertor(IntegerConvertor):
    regex = "[0-9]{1,18}"


def register() -> None:
    register_url_convertor("int", IdConvertor())
