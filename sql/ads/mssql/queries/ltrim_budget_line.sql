-- LTRIM: the budget line of the weekly e-mail, from a fixed-width number format.
-- SQL Server 2022. PostgreSQL twin: sql/ads/postgres/queries/ltrim_budget_line.sql.
--
-- Question: what does each active campaign's budget line read in the weekly e-mail ("USD
-- 12345.00"), newest campaign first?
-- Data: the seeded active campaigns (ads.campaigns, budget DECIMAL(14,2)).
-- What to look at: budget_text has no leading blanks. STR(number, 20, 2) right-aligns the number
-- in 20 characters, so LTRIM removes the padding: the classic STR-then-LTRIM idiom. STR goes
-- through FLOAT, exact here (14 significant digits at most); FORMAT(budget, 'N2') would give
-- separators but runs through the CLR and is much slower per row. (SQL Server 2022 also takes
-- LTRIM(string, characters), e.g. LTRIM(@handle, '@'), like PostgreSQL's ltrim(text, text).)
-- Run: sqlcmd -d PromptAds -i sql/ads/mssql/queries/ltrim_budget_line.sql

SELECT
    c.id AS campaign_id,
    c.name AS campaign,
    STR(c.budget, 20, 2) AS budget_padded,
    CONCAT(c.currency, ' ', LTRIM(STR(c.budget, 20, 2))) AS budget_text
FROM ads.campaigns AS c
WHERE c.deleted_at IS NULL AND c.status = 'active'
ORDER BY c.starts_at DESC, c.id;
