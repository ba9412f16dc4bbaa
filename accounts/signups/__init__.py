"""Where SMS-code requests and registration attempts came from (the sign-up burst risk
signal of incentives.risk reads them)."""
