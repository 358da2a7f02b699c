-- A charge can be voided (orders voids the charges of checkouts that never completed); a voided
-- key is never charged again.
ALTER TABLE charges ADD COLUMN voided_at TEXT;
