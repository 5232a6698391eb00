"""Real rows for the authorization matrix: cases in a given state held by a given queue,
pending transfers, spare officers — built through the services, as officers would."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cases.attachment_access import AttachmentAccess
from cases.casework import TriageDecision
from cases.categories import Routing
from cases.intake import Attachment, Draft
from cases.lifecycle import Status
from cases.officers import OfficerSession
from cases.transfers import TransferService
from storage.crypto.receipts import new_receipt
from tests.factories import PASSWORD, Site

HOME = {"triage1": "triage", "union1": "union", "disc1": "discipline"}
OTHER = {"triage1": "union", "union1": "discipline", "disc1": "union"}
FLIP = {"union": "discipline", "discipline": "union"}  # the two ends of a clue transfer
SPARE = "spare1"  # an account the administrator changes
MEMBER = "spare2"  # a union member a union officer revokes
GRANTEE = "spare3"  # an activated officer a union member grants the queue to
ENROLLING = "enrolling1"  # has an initial password, not activated yet


@dataclass
class World:
    """Builds targets on demand; `cached` ones are shared by calls that change nothing."""

    site: Site
    sessions: dict[str, OfficerSession] = field(default_factory=dict)
    cached: dict[tuple[str, str, str], dict[str, str]] = field(default_factory=dict)

    @classmethod
    async def build(cls, site: Site) -> World:
        await site.setup.add_officer(SPARE, "union", PASSWORD)
        await site.add_officer(MEMBER, "union", "union")
        await site.add_officer(GRANTEE, "union")
        # Its initial password is PASSWORD, so the matrix logs everyone in alike.
        await site.setup.add_officer(ENROLLING, "union", PASSWORD)
        world = cls(site)
        for username in HOME:
            world.sessions[username] = await site.login(username)
        return world

    async def case(self, queue: str, state: str, *, attachment: bool = False) -> str:
        """A fresh case held by `queue` alone (triage holds only received ones) in `state`."""
        files = (Attachment("attachment-1.txt", "text/plain", b"evidence"),) if attachment else ()
        draft = Draft(category="wages", text="matrix report", attachments=files)
        submitted = await self.site.intake.submit(draft, new_receipt())
        ref = submitted.reference
        if queue == "triage" or state == "received":
            return ref
        work, officer = self.site.casework, self.sessions["union1" if queue == "union" else "disc1"]
        await work.triage(self.sessions["triage1"], ref, TriageDecision(routing=Routing(queue)))
        if state == "accepted":
            return ref
        await work.change_status(officer, ref, Status.IN_PROGRESS, None)
        if state == "look_back":
            due = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)
            await work.rectify(officer, ref, "车间", due, None)
            await work.change_status(officer, ref, Status.LOOK_BACK, None)
        elif state == "closed":
            await work.close(officer, ref, "已办结")
        return ref

    async def transfer(self, from_queue: str, to_queue: str) -> str:
        """A pending clue transfer of a fresh accepted case."""
        sender = self.sessions["union1" if from_queue == "union" else "disc1"]
        ref = await self.case(from_queue, "accepted")
        view = await TransferService(self.site.uow).request(sender, ref, to_queue, "请核查")  # type: ignore[arg-type]
        return view.id

    async def target(
        self, kind: str | None, role: str, state: str, *, reuse: bool
    ) -> dict[str, str]:
        """Values for a route's placeholders, for `role`."""
        key = (kind or "", role if role in HOME else "others", state)
        if reuse and key in self.cached:
            return self.cached[key]
        values = {"queue": "union", "spare": SPARE, "member": MEMBER, "grantee": GRANTEE}
        values["fingerprint"] = self.site.fingerprints[GRANTEE]
        home = HOME.get(role, "union")
        if kind in ("own", "own+attachment"):
            values["case"] = await self.case(home, state, attachment=kind == "own+attachment")
            if kind == "own+attachment":
                holder = self.sessions.get(role, self.sessions["union1"])
                [info] = await AttachmentAccess(self.site.casework).catalogue(
                    holder, values["case"]
                )
                values["item"] = info.item_id
        elif kind == "other":
            values["case"] = await self.case(OTHER.get(role, "union"), state)
        elif kind == "incoming":  # addressed to the role's queue (triage has none: any)
            to = home if home in FLIP else "discipline"
            values["transfer"] = await self.transfer(FLIP[to], to)
        elif kind == "outgoing":  # sent by the role's queue
            sender = home if home in FLIP else "union"
            values["transfer"] = await self.transfer(sender, FLIP[sender])
        if reuse:
            self.cached[key] = values
        return values
