-- An invite may be mailed: the address it went to, shown to the family
-- beside the open invite (null for a link passed on by hand).
alter table invites add column email text;
