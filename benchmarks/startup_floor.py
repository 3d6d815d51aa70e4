"""The least a start-up on flowdesk's libraries does, as a second floor for `flowdesk run`:
import SQLAlchemy and pydantic, define one pydantic model and validate one value (which loads
pydantic's model machinery, as any model does), open a SQLite database through SQLAlchemy and
commit one row, inside asyncio.run. Nothing of flowdesk is imported."""

from __future__ import annotations

import asyncio
import sys

import sqlalchemy
from pydantic import BaseModel


class Step(BaseModel):
    id: str
    type: str


async def main(path: str) -> None:
    Step.model_validate({"id": "s1", "type": "transform"})
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
        conn.execute(sqlalchemy.text("INSERT INTO t VALUES (1)"))
    engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
