"""Price quotes: seats at their held prices, fees, tax, coupons, loyalty points, snacks."""
