from django.apps import AppConfig

from catalog.display.slots import ToolPageSlot


class TelemetryConfig(AppConfig):
    name = "telemetry"
    verbose_name = "Telemetry"
    # What telemetry shows on a tool's page (see catalog.display.slots).
    tool_page_slots = (ToolPageSlot("telemetry:tool_runs", "sections", "Recent runs"),)

    def ready(self) -> None:
        from catalog.display.in_words import register_value_words
        from telemetry.models import ExecutionStatus

        # Audit entries of approvals record a run's status; show its label.
        register_value_words("status", ExecutionStatus.choices)
