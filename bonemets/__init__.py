"""bonemets: a shared decision-making guide for people whose cancer has spread to their bones."""
