"""Monthly statements (对账单) of merchants and their city's roll-up (docs/api.md
"Statements")."""
