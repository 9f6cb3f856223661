"""Dates as debtors say them: a corpus of chat phrases with the date they mean on fixed days.

Reference days: every weekday of Mon 23 - Sun 29 November 2026, the 30-day month end (Mon 30 Nov),
the year end (Wed 30 Dec, Thu 31 Dec 2026, Fri 1 Jan 2027), a 31-day month end (Sun 31 Jan 2027),
28 February 2027 (not a leap year), 29 February and 1 March 2028 (a leap year). ``due`` rows go
through ``parse_due_date`` (a promise), ``paid`` rows through ``parse_paid_date`` (a payment).

The meanings (the full table is in ``bot/domain/dates.py``). Open references ("jumat", "tgl 5")
are read forward in a promise and backward in a payment; a phrase pointing the other way ("kemarin"
in a promise, "besok" in a payment) is no answer to the question: None. Weeks run Monday to Sunday.

==========================================  =================================================
phrase                                      promise / payment
==========================================  =================================================
jumat / on friday                           next Friday after today / last before today
jumat ini / this friday                     the same, but today counts
jumat besok / coming friday                 next Friday after today / None
jumat depan / next friday                   Friday of next week: from Sunday 5 days, from
                                            Thursday 8 days (not tomorrow) / None
jumat kemarin / last friday                 None / last Friday before today (never a Saturday)
weekend (ini) / akhir pekan / this weekend  Saturday of this week, today on Sunday /
                                            last Saturday on or before today
weekend depan / next weekend                Saturday of next week / None
tgl 5 / the 5th                             next 5th, today counts / last 5th, today counts
tgl 31 in a 30-day month                    the month's last day, unless that is today
sabtu tgl 5                                 the 5th that is a Saturday among the next two; else
                                            the next 5th (the day of month wins)
awal bulan / awal bulan depan               next 1st (today counts) / 1st of next month
pertengahan (tengah) bulan / mid month      next 15th (today counts); "depan": next month's
akhir bulan / end of the month              last day of this month (today on the last day)
gajian / on payday (payday=P)               next P-th, today counts, clamped; None without P
bulan depan / tahun depan                   same day next month / year, clamped / None
minggu depan / minggu lalu                  +7 days / None; None / -7 days
kemarin, tadi, 2 hari lalu                  None / yesterday, today, 2 days ago
5-12-2026, tgl 25 ini                       that date, even on the wrong side of today
kapan2, nanti aja, ga tau, soon             None
==========================================  =================================================
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

import pytest

from bot.domain.dates import parse_due_date, parse_paid_date

MON, TUE, WED, THU, FRI, SAT, SUN = (date(2026, 11, day) for day in range(23, 30))
NOV30 = date(2026, 11, 30)  # Monday, last day of a 30-day month
DEC30 = date(2026, 12, 30)  # Wednesday
DEC31 = date(2026, 12, 31)  # Thursday, year end
JAN1 = date(2027, 1, 1)  # Friday
JAN31 = date(2027, 1, 31)  # Sunday, last day of a 31-day month
FEB28 = date(2027, 2, 28)  # Sunday, last day of February (2027 is not a leap year)
FEB29 = date(2028, 2, 29)  # Tuesday, leap day
MAR1 = date(2028, 3, 1)  # Wednesday, the day after a leap day


class Row(NamedTuple):
    phrase: str
    today: date
    kind: str  # "due" (a promise) or "paid" (a payment already made)
    expected: date | None
    payday: int | None = None


def due(phrase: str, today: date, expected: str | None, *, payday: int | None = None) -> Row:
    return Row(phrase, today, "due", date.fromisoformat(expected) if expected else None, payday)


def paid(phrase: str, today: date, expected: str | None) -> Row:
    return Row(phrase, today, "paid", date.fromisoformat(expected) if expected else None)


INDONESIAN: list[Row] = [
    # -- "jumat depan": Friday of next week, whatever the weekday today -------------------------
    due("jumat depan", MON, "2026-12-04"),
    due("jumat dpn", TUE, "2026-12-04"),
    due("jum'at depan", WED, "2026-12-04"),
    due("jumat depan", THU, "2026-12-04"),  # not tomorrow
    due("jumat depan", FRI, "2026-12-04"),
    due("jmt dpn", SAT, "2026-12-04"),
    due("jumat depan", SUN, "2026-12-04"),  # the coming Friday, 5 days later
    due("jumaat depan", NOV30, "2026-12-11"),
    due("jumat minggu depan", MON, "2026-12-04"),
    due("senin depan", SUN, "2026-11-30"),
    due("senin depan", MON, "2026-11-30"),
    due("sen dpn", WED, "2026-11-30"),
    due("sabtu depan", FRI, "2026-12-05"),
    due("insyaallah sy bayar jumat depan ya pak", THU, "2026-12-04"),
    # -- "jumat ini": this week's Friday, today included ----------------------------------------
    due("jumat ini", MON, "2026-11-27"),
    due("jumat ini", THU, "2026-11-27"),
    due("jumat ini", FRI, "2026-11-27"),
    due("jumat ini", SAT, "2026-12-04"),
    due("jumat ni", SUN, "2026-12-04"),
    due("rabu ini", WED, "2026-11-25"),
    due("sabtu ini", SAT, "2026-11-28"),
    due("minggu ini", MON, "2026-11-29"),
    # -- plain weekday and "jumat besok": the next one after today ------------------------------
    due("hari jumat", TUE, "2026-11-27"),
    due("hari jumat", FRI, "2026-12-04"),
    due("jumad", WED, "2026-11-27"),
    due("jumat besok", WED, "2026-11-27"),
    due("jumat besok", THU, "2026-11-27"),
    due("jumat besok", FRI, "2026-12-04"),
    due("besok jumat", SUN, "2026-12-04"),
    due("selasa", MON, "2026-11-24"),
    due("kamis", THU, "2026-12-03"),
    due("hari minggu", MON, "2026-11-29"),
    due("hari minggu", SUN, "2026-12-06"),
    due("senin", DEC31, "2027-01-04"),
    due("hari sabtu", FEB28, "2027-03-06"),
    due("jumat kemarin", SUN, None),  # a promise is not made for last Friday
    # -- paid on a weekday: the last one before today -------------------------------------------
    paid("jumat kemarin", SUN, "2026-11-27"),
    paid("jumat kemarin", SAT, "2026-11-27"),
    paid("jumat kemarin", FRI, "2026-11-20"),
    paid("jumat kmrn", MON, "2026-11-20"),
    paid("jum'at lalu", WED, "2026-11-20"),
    paid("udh tf jumat kemarin kak", SUN, "2026-11-27"),
    paid("sabtu kemarin", SUN, "2026-11-28"),
    paid("sabtu kemaren", MON, "2026-11-21"),
    paid("senin kemarin", MON, "2026-11-16"),
    paid("senin kemarin", TUE, "2026-11-23"),
    paid("hari senin", WED, "2026-11-23"),
    paid("hari jumat", MON, "2026-11-20"),
    paid("jumat minggu lalu", SUN, "2026-11-20"),
    paid("kamis minggu lalu", MON, "2026-11-19"),
    paid("rabu ini", FRI, "2026-11-25"),
    paid("hari minggu", MON, "2026-11-22"),
    paid("hari minggu kemarin", THU, "2026-11-22"),
    paid("kamis kemarin", JAN1, "2026-12-31"),
    # -- the weekend ----------------------------------------------------------------------------
    due("akhir minggu ini", MON, "2026-11-28"),
    due("wiken ini", TUE, "2026-11-28"),
    due("akhir pekan ini", WED, "2026-11-28"),
    due("akhir pekan", THU, "2026-11-28"),
    due("weekend ini", FRI, "2026-11-28"),
    due("weekend", SAT, "2026-11-28"),
    due("akhir minggu", SUN, "2026-11-29"),
    due("weekend ini", DEC30, "2027-01-02"),
    due("weekend depan", MON, "2026-12-05"),
    due("akhir minggu depan", SUN, "2026-12-05"),
    due("awal minggu depan", THU, "2026-11-30"),
    paid("weekend kemarin", MON, "2026-11-21"),
    paid("akhir pekan lalu", SUN, "2026-11-21"),
    paid("pas weekend", MON, "2026-11-21"),
    # -- parts of a month -----------------------------------------------------------------------
    due("pertengahan bulan depan", SUN, "2026-12-15"),
    due("pertengahan bulan depan", MON, "2026-12-15"),
    due("tengah bulan", MON, "2026-12-15"),
    due("pertengahan bulan", JAN31, "2027-02-15"),
    due("tengah bln depan", DEC31, "2027-01-15"),
    due("pertengahan bulan ini", MON, "2026-11-15"),  # past: returned for the caller to refuse
    due("prtengahan bln dpn", FEB29, "2028-03-15"),
    due("awal bulan", MON, "2026-12-01"),
    due("awal bulan depan", NOV30, "2026-12-01"),
    due("awal bln dpn", DEC30, "2027-01-01"),
    due("awal bulan depan", DEC31, "2027-01-01"),
    due("awal bulan", FEB28, "2027-03-01"),
    due("akhir bulan", MON, "2026-11-30"),
    due("ahir bulan", WED, "2026-11-30"),
    due("akhir bln", NOV30, "2026-11-30"),
    due("akhir bulan", DEC30, "2026-12-31"),
    due("akhir bulan", DEC31, "2026-12-31"),
    due("akhir bulan depan", DEC31, "2027-01-31"),
    due("akhir bulan depan", JAN31, "2027-02-28"),
    due("akhir bulan", FEB28, "2027-02-28"),
    due("akhir bulan", FEB29, "2028-02-29"),
    due("akhir bulan depan", FEB29, "2028-03-31"),
    due("akhir desember", MON, "2026-12-31"),
    due("awal januari", MON, "2027-01-01"),
    due("pertengahan desember", MON, "2026-12-15"),
    due("akhir tahun", MON, "2026-12-31"),
    due("akhir tahun", DEC31, "2026-12-31"),
    due("awal tahun depan", DEC30, "2027-01-01"),
    paid("akhir bulan kemarin", MON, "2026-10-31"),
    paid("akhir bulan lalu", JAN31, "2026-12-31"),
    paid("akhir bulan lalu", MAR1, "2028-02-29"),
    paid("awal bulan", MON, "2026-11-01"),
    paid("pertengahan bulan", MON, "2026-11-15"),
    paid("tengah bulan", DEC31, "2026-12-15"),
    paid("akhir bulan", NOV30, "2026-11-30"),
    paid("akhir bulan", MON, "2026-10-31"),
    # -- payday ---------------------------------------------------------------------------------
    due("gajian", MON, "2026-11-25", payday=25),
    due("pas gajian", WED, "2026-11-25", payday=25),  # today counts
    due("pas gajian", THU, "2026-12-25", payday=25),
    due("abis gajian", MON, "2026-12-01", payday=1),
    due("setelah gajian", NOV30, "2026-11-30", payday=31),  # a 31st payday is the month's last day
    due("tunggu gajian", DEC31, "2027-01-05", payday=5),
    due("gajian", FEB28, "2027-02-28", payday=30),
    due("pas gajian bulan depan", MON, "2026-12-25", payday=25),
    due("gajian bln dpn", JAN31, "2027-02-28", payday=30),
    due("sy bayar pas gajihan ya", SAT, "2026-12-01", payday=1),
    due("pas gajian", MON, None),  # payday unknown: the dialogue asks
    due("nunggu gajian bulan depan", MON, None),
    due("gajian tgl 1", MON, "2026-12-01"),  # an explicit day wins
    due("besok gajian", MON, "2026-11-24", payday=25),  # the debtor knows this month's payday
    # -- single days and periods ----------------------------------------------------------------
    due("besok", DEC31, "2027-01-01"),
    due("bsk", DEC30, "2026-12-31"),
    due("besok", FEB28, "2027-03-01"),
    due("besok pagi", FEB29, "2028-03-01"),
    due("lusa", DEC30, "2027-01-01"),
    due("besok lusa", FEB28, "2027-03-02"),
    due("2 hari lagi", MON, "2026-11-25"),
    due("3 hr lg", SAT, "2026-12-01"),
    due("seminggu lagi", DEC31, "2027-01-07"),
    due("dua minggu lagi", MON, "2026-12-07"),
    due("2 mgg lg", FEB28, "2027-03-14"),
    due("dalam seminggu", WED, "2026-12-02"),
    due("minta waktu seminggu", MON, "2026-11-30"),
    due("bs mundur seminggu?", MON, "2026-11-30"),
    due("diundur 2 minggu ya kak", FRI, "2026-12-11"),
    due("tunda seminggu", DEC31, "2027-01-07"),
    due("could i get 2 more weeks", MON, "2026-12-07"),
    due("3 more days please", SUN, "2026-12-02"),
    due("seminggu", FRI, "2026-12-04"),
    due("minggu depan", SUN, "2026-12-06"),
    due("mingdep", FRI, "2026-12-04"),
    due("pekan depan", DEC31, "2027-01-07"),
    due("bulan depan", DEC31, "2027-01-31"),
    due("bulan depan", DEC30, "2027-01-30"),
    due("bulan depan", JAN31, "2027-02-28"),
    due("bln dpn", FEB29, "2028-03-29"),
    due("sebulan lagi", JAN31, "2027-02-28"),
    due("tahun depan", FEB29, "2029-02-28"),
    due("tahun depan", MON, "2027-11-23"),
    due("hari ini", SUN, "2026-11-29"),
    due("skrg", FEB29, "2028-02-29"),
    due("nanti malam", DEC31, "2026-12-31"),
    due("ntar sore", MON, "2026-11-23"),
    # -- a day of the month and explicit dates --------------------------------------------------
    due("tgl 5", MON, "2026-12-05"),
    due("tgl 25", MON, "2026-11-25"),
    due("tgl 25an", MON, "2026-11-25"),
    due("tanggal dua puluh lima", MON, "2026-11-25"),
    due("tgl 2", DEC30, "2027-01-02"),
    due("tgl 2", DEC31, "2027-01-02"),
    due("tgl 31", MON, "2026-11-30"),  # November has 30 days: its end
    due("tgl 31", NOV30, "2026-12-31"),  # ... but not today: the next 31st
    due("tgl 31", JAN31, "2027-01-31"),
    due("tgl 30", FEB28, "2027-03-30"),
    due("tgl 29", FEB29, "2028-02-29"),
    due("tgl 30", FEB29, "2028-03-30"),
    due("tgl 15", FEB29, "2028-03-15"),
    due("tgl 5 bln dpn", MON, "2026-12-05"),
    due("tgl 5 bulan depan", DEC31, "2027-01-05"),
    due("bulan depan tgl 10", JAN31, "2027-02-10"),
    due("tanggal 5 desember", MON, "2026-12-05"),
    due("tgl 1 januari", DEC31, "2027-01-01"),
    due("5/12", MON, "2026-12-05"),
    due("1/1", DEC31, "2027-01-01"),
    due("29/2", FEB28, "2028-02-29"),
    due("5-12-2026", MON, "2026-12-05"),
    due("5 des", MON, "2026-12-05"),
    due("5 Des", DEC31, "2027-12-05"),
    due("sabtu tgl 5", MON, "2026-12-05"),
    due("jumat tgl 5", MON, "2026-12-05"),  # 5 Dec is a Saturday: the day of month wins
    due("jumat tgl 1", MON, "2027-01-01"),  # 1 Dec is a Tuesday, 1 Jan a Friday
    due("sy tf 500rb sabtu tgl 5 ya", MON, "2026-12-05"),
    paid("tgl 20 kemarin", MON, "2026-11-20"),
    paid("sdh bayar tgl 20 kmrn", FRI, "2026-11-20"),
    paid("tgl 25 kemarin", MON, "2026-10-25"),
    paid("tgl 30", DEC31, "2026-12-30"),
    paid("tgl 31", JAN1, "2026-12-31"),
    paid("tgl 31", NOV30, "2026-10-31"),
    paid("tgl 29", MAR1, "2028-02-29"),
    paid("tgl 5 bulan lalu", MON, "2026-10-05"),
    paid("20/11", SUN, "2026-11-20"),
    paid("5 des", DEC31, "2026-12-05"),
    # -- paid: relative to today ----------------------------------------------------------------
    paid("kemarin", MON, "2026-11-22"),
    paid("kmrn sore", DEC31, "2026-12-30"),
    paid("kemaren", JAN1, "2026-12-31"),
    paid("kemarin", MAR1, "2028-02-29"),
    paid("kemarin lusa", MON, "2026-11-21"),
    paid("tadi pagi", SUN, "2026-11-29"),
    paid("udh tf td siang", FEB28, "2027-02-28"),
    paid("barusan", MON, "2026-11-23"),
    paid("2 hari lalu", MON, "2026-11-21"),
    paid("3 hari yg lalu", JAN1, "2026-12-29"),
    paid("minggu lalu", MON, "2026-11-16"),
    paid("seminggu yang lalu", DEC31, "2026-12-24"),
    paid("minggu kemarin", WED, "2026-11-18"),
    paid("bulan lalu", DEC31, "2026-11-30"),
    paid("sebulan lalu", MAR1, "2028-02-01"),
    # -- a phrase pointing away from the question is no answer to it ---------------------------
    due("kemarin", MON, None),
    due("kemarin lusa", MON, None),
    due("td pagi", TUE, None),
    due("tgl 20 kemarin", MON, None),
    due("sy baru di phk minggu lalu", MON, None),
    due("udh tf kemarin, sisanya 2 hari lagi", MON, "2026-11-25"),
    due("kemarin blm bisa, besok ya", MON, "2026-11-24"),
    paid("besok", MON, None),
    paid("jumat depan", SUN, None),
    paid("tgl 5 bulan depan", MON, None),
    paid("sy bayar minggu depan ya", MON, None),
    paid("30-11-2026", MON, "2026-11-30"),  # an explicit date is kept for the caller to refuse
    # -- no date --------------------------------------------------------------------------------
    due("kapan2", MON, None),
    due("kapan-kapan", FRI, None),
    due("nanti aja", MON, None),
    due("ntar aja ya", SUN, None),
    due("ga tau", MON, None),
    due("gk tau kapan", DEC31, None),
    due("secepatnya", MON, None),
    due("blm tau", WED, None),
    due("minggu", MON, None),  # a week or Sunday: ask
    due("cicil 3 bulan", MON, None),
    due("bayar 500rb dulu", MON, None),
    paid("belum bayar", MON, None),
    paid("minggu ini", THU, None),  # some day this week
]

ENGLISH: list[Row] = [
    # -- weekdays -------------------------------------------------------------------------------
    due("next friday", MON, "2026-12-04"),
    due("next friday", THU, "2026-12-04"),
    due("next Friday", SUN, "2026-12-04"),
    due("I'll pay next friday", FRI, "2026-12-04"),
    due("this friday", WED, "2026-11-27"),
    due("this friday", FRI, "2026-11-27"),
    due("this Friday", SAT, "2026-12-04"),
    due("on friday", FRI, "2026-12-04"),
    due("friday", TUE, "2026-11-27"),
    due("this coming friday", THU, "2026-11-27"),
    due("next monday", SUN, "2026-11-30"),
    due("next tuesday", MON, "2026-12-01"),
    due("on sunday", MON, "2026-11-29"),
    due("saturday next week", WED, "2026-12-05"),
    paid("last friday", SUN, "2026-11-27"),
    paid("I paid last friday", FRI, "2026-11-20"),
    paid("last Friday", MON, "2026-11-20"),
    paid("on monday", WED, "2026-11-23"),
    paid("friday last week", SUN, "2026-11-20"),
    paid("last saturday", SUN, "2026-11-28"),
    # -- the weekend ----------------------------------------------------------------------------
    due("this weekend", MON, "2026-11-28"),
    due("this weekend", SAT, "2026-11-28"),
    due("this weekend", SUN, "2026-11-29"),
    due("over the weekend", THU, "2026-11-28"),
    due("next weekend", SUN, "2026-12-05"),
    due("end of the week", TUE, "2026-11-28"),
    paid("last weekend", MON, "2026-11-21"),
    # -- parts of a month or year ---------------------------------------------------------------
    due("end of the month", MON, "2026-11-30"),
    due("end of the month", NOV30, "2026-11-30"),
    due("end of month", FEB28, "2027-02-28"),
    due("end of next month", JAN31, "2027-02-28"),
    due("month-end", DEC30, "2026-12-31"),
    due("I can transfer 750,000 by the end of the month", MON, "2026-11-30"),
    due("mid next month", MON, "2026-12-15"),
    due("mid-month", MON, "2026-12-15"),
    due("middle of next month", DEC31, "2027-01-15"),
    due("mid month", FEB29, "2028-03-15"),
    due("early next month", NOV30, "2026-12-01"),
    due("beginning of next month", DEC31, "2027-01-01"),
    due("start of the month", JAN31, "2027-02-01"),
    due("end of december", MON, "2026-12-31"),
    due("mid january", DEC31, "2027-01-15"),
    due("end of the year", DEC30, "2026-12-31"),
    paid("end of last month", MON, "2026-10-31"),
    # -- a day of the month and explicit dates --------------------------------------------------
    due("the 5th", MON, "2026-12-05"),
    due("on the 5th", DEC31, "2027-01-05"),
    due("by the 2nd", DEC30, "2027-01-02"),
    due("on the 1st", DEC31, "2027-01-01"),
    due("the 30th", FEB28, "2027-03-30"),
    due("on the fifth", MON, "2026-12-05"),
    due("the 5th of next month", MON, "2026-12-05"),
    due("December 5th", MON, "2026-12-05"),
    due("5th of December", MON, "2026-12-05"),
    due("Dec 5", DEC31, "2027-12-05"),
    due("the twenty-fifth of december", MON, "2026-12-25"),
    due("5 December 2026", MON, "2026-12-05"),
    due("by 5 pm", MON, None),
    due("Feb 29", FEB28, "2028-02-29"),
    paid("on the 20th", MON, "2026-11-20"),
    paid("the 25th", MON, "2026-10-25"),
    paid("Dec 5", DEC31, "2026-12-05"),
    # -- single days and periods ----------------------------------------------------------------
    due("tomorrow", DEC31, "2027-01-01"),
    due("tmrw", FEB28, "2027-03-01"),
    due("day after tomorrow", DEC30, "2027-01-01"),
    due("today", SAT, "2026-11-28"),
    due("tonight", FEB29, "2028-02-29"),
    due("in two weeks", MON, "2026-12-07"),
    due("in 2 weeks", DEC31, "2027-01-14"),
    due("3 days from now", SAT, "2026-12-01"),
    due("in a week", FEB28, "2027-03-07"),
    due("a week from now", DEC30, "2027-01-06"),
    due("in a fortnight", MON, "2026-12-07"),
    due("next week", SUN, "2026-12-06"),
    due("next month", JAN31, "2027-02-28"),
    due("in a month", DEC31, "2027-01-31"),
    due("next year", FEB29, "2029-02-28"),
    paid("yesterday", JAN1, "2026-12-31"),
    paid("yesterday", MAR1, "2028-02-29"),
    paid("the day before yesterday", MON, "2026-11-21"),
    paid("2 days ago", DEC31, "2026-12-29"),
    paid("last week", MON, "2026-11-16"),
    paid("a week ago", JAN1, "2026-12-25"),
    paid("this morning", SUN, "2026-11-29"),
    paid("earlier today", FEB28, "2027-02-28"),
    paid("last month", MON, "2026-10-23"),
    # -- payday ---------------------------------------------------------------------------------
    due("on payday", MON, "2026-11-25", payday=25),
    due("after payday", FRI, "2026-12-25", payday=25),
    due("when I get paid", DEC31, "2027-01-01", payday=1),
    due("payday next month", MON, "2026-12-28", payday=28),
    due("on payday", MON, None),
    # -- a phrase pointing away from the question is no answer to it ---------------------------
    due("yesterday", MON, None),
    due("I lost my job last month", MON, None),
    paid("next friday", MON, None),
    paid("tomorrow", DEC31, None),
    # -- no date --------------------------------------------------------------------------------
    due("soon", MON, None),
    due("later", MON, None),
    due("not sure", SUN, None),
    due("asap", MON, None),
    due("idk", DEC31, None),
    due("when I can", MON, None),
]

CORPUS = [(row, "id") for row in INDONESIAN] + [(row, "en") for row in ENGLISH]


def _row_id(item: tuple[Row, str]) -> str:
    row, _ = item
    payday = f" payday={row.payday}" if row.payday else ""
    return f"{row.kind}: {row.phrase!r} on {row.today:%a %d %b %Y}{payday}"


@pytest.mark.parametrize("item", CORPUS, ids=[_row_id(item) for item in CORPUS])
def test_phrase_means(item: tuple[Row, str]) -> None:
    row, language = item
    if row.kind == "due":
        found = parse_due_date(row.phrase, today=row.today, language=language, payday=row.payday)
    else:
        found = parse_paid_date(row.phrase, today=row.today, language=language)
    assert found == row.expected


def test_corpus_shape() -> None:
    """At least 200 phrases, two thirds Indonesian, every weekday and the month and year ends."""
    assert len(CORPUS) >= 200
    assert 0.6 <= len(INDONESIAN) / len(CORPUS) <= 0.75
    days = {row.today for row, _ in CORPUS}
    assert {d.weekday() for d in days} == set(range(7))
    assert {NOV30, DEC30, DEC31, JAN31, FEB28, FEB29} <= days
    keys = [(row.phrase, row.today, row.kind, row.payday) for row, _ in CORPUS]
    assert len(keys) == len(set(keys)), "a row is listed twice"
