"""Request bodies every app's API shares."""

from __future__ import annotations

from rest_framework import serializers

from catalog.models import REASON_MAX_LENGTH


class ReasonSerializer(serializers.Serializer):
    """A verb's one optional field: why, for the audit log."""

    reason = serializers.CharField(
        max_length=REASON_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why; kept in the audit log.",
    )
