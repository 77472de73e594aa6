from django.apps import AppConfig


class TelemetryConfig(AppConfig):
    name = "telemetry"
    verbose_name = "Telemetry"

    def ready(self) -> None:
        from catalog.display.in_words import register_value_words
        from telemetry.models import ExecutionStatus

        # Audit entries of approvals record a run's status; show its label.
        register_value_words("status", ExecutionStatus.choices)
