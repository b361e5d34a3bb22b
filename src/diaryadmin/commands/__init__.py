"""Command groups, in the order of the school year; each is loaded on first use.

name -> "module:attribute" of a click command or group.
"""

COMMANDS = {
    "init": "diaryadmin.commands.setup:init_command",
    "db": "diaryadmin.commands.setup:db_group",
    "school": "diaryadmin.commands.school:school_group",
    "roster": "diaryadmin.commands.roster:roster_group",
    "credentials": "diaryadmin.commands.credentials:credentials_group",
    "guardians": "diaryadmin.commands.guardians:guardians_group",
    "applications": "diaryadmin.commands.applications:applications_group",
    "periods": "diaryadmin.commands.journal:periods_group",
    "journal": "diaryadmin.commands.journal:journal_group",
    "audit": "diaryadmin.commands.audit:audit_group",
    "check": "diaryadmin.commands.check:check_command",
    "demo": "diaryadmin.commands.demo:demo_command",
    "completion": "diaryadmin.commands.completion:completion_command",
}
