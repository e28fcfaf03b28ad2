// Package demo is the backend of Yanıt Market, the fictional Turkish
// retailer of the demo and the tests: orders, loyalty cards and service
// appointments at the Kadıköy store, held in memory, and the four Go-native
// tools that read and change them (order_status, card_balance,
// book_appointment, cancel_appointment).
//
// New seeds the data, dated relative to its clock so that a fixed clock
// gives the same dates on every run:
//
//   - orders SP-2026-0001 to SP-2026-0010, two or three in each status
//     (preparing, shipped, delivered, cancelled);
//   - loyalty cards of +905321234567, +905551112233, +447700900123,
//     +905339876543, +905059998877 and +4915112345678; besides, any number
//     of the form +90555000XXXX has a card generated from its last four
//     digits, the same on every call, so a simulator user can try
//     card_balance with a number of their own;
//   - appointments RDV-1001 to RDV-1005 in the next three days, of which
//     RDV-1001 and RDV-1002 fill tomorrow's 14:00 slot and RDV-1005 is
//     cancelled; new bookings are numbered from RDV-1006.
//
// Appointments start on the hour or half past from 10:00 to 21:00 (Turkish
// time), two per slot.
//
// A Store is safe for concurrent use: orders and cards never change after
// New, and one mutex guards the appointments.
package demo
