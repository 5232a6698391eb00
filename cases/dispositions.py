"""Each queue's dispositions (DESIGN §4). Codes are stored; labels live in the catalogs."""

from __future__ import annotations

from enum import StrEnum

from cases.categories import Queue


class Disposition(StrEnum):
    # 纪检监察 问题线索处置
    TALK_INQUIRY = "talk_inquiry"  # 谈话函询
    PRELIMINARY_VERIFICATION = "preliminary_verification"  # 初步核实
    HELD_PENDING = "held_pending"  # 暂存待查
    CONCLUDED = "concluded"  # 予以了结
    REFERRED_INVESTIGATION = "referred_investigation"  # 移送审查调查
    # 工会
    MEDIATION = "mediation"  # 协调解决
    FORMAL_TALK_RECTIFICATION = "formal_talk_rectification"  # 约谈整改
    ADVISORY_NOTICE = "advisory_notice"  # 提示函/意见书
    REFERRED_DEPARTMENT = "referred_department"  # 转交
    # either queue, for unfounded reports where someone was named
    CLEARED = "cleared"  # 澄清正名


BY_QUEUE: dict[Queue, frozenset[Disposition]] = {
    Queue.DISCIPLINE: frozenset(
        {
            Disposition.TALK_INQUIRY,
            Disposition.PRELIMINARY_VERIFICATION,
            Disposition.HELD_PENDING,
            Disposition.CONCLUDED,
            Disposition.REFERRED_INVESTIGATION,
            Disposition.CLEARED,
        }
    ),
    Queue.UNION: frozenset(
        {
            Disposition.MEDIATION,
            Disposition.FORMAL_TALK_RECTIFICATION,
            Disposition.ADVISORY_NOTICE,
            Disposition.REFERRED_DEPARTMENT,
            Disposition.CLEARED,
        }
    ),
}


def allowed_for(queues: set[str]) -> frozenset[Disposition]:
    """Dispositions open to an officer acting for `queues` (the union of each queue's list)."""
    result: frozenset[Disposition] = frozenset()
    for queue in queues:
        result |= BY_QUEUE.get(Queue(queue), frozenset()) if queue in set(Queue) else frozenset()
    return result
