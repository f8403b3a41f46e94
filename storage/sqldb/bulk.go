package sqldb

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// maxRowsPerInsert bounds the rows of one multi-row INSERT below what the
// parameter limit allows: past a few hundred rows a longer statement saves
// no time, and every statement is parsed (on PostgreSQL, also cached) whole.
const maxRowsPerInsert = 500

// table names a table and its columns, in the order in which the row
// functions passed to insertRows and copyRows produce values.
type table struct {
	name    string
	columns []string
}

// insertRows writes n rows into t with as few multi-row INSERT statements as
// the dialect's parameter limit and maxRowsPerInsert allow. row(i, args)
// appends the values of row i to args and returns the extended slice. A
// statement that fails ends insertRows; the caller's transaction decides
// what becomes of the rows already written.
func (db *DB) insertRows(ctx context.Context, e execer, t table, n int, row func(i int, args []any) []any) error {
	per := min(maxRowsPerInsert, db.dialect.maxParams/len(t.columns))
	var (
		args []any
		last struct {
			rows int
			sql  string
		}
	)
	for start := 0; start < n; start += per {
		rows := min(per, n-start)
		args = args[:0]
		for i := start; i < start+rows; i++ {
			args = row(i, args)
		}
		if len(args) != rows*len(t.columns) {
			return fmt.Errorf("insert into %s: %d values for %d rows of %d columns", t.name, len(args), rows, len(t.columns))
		}
		if rows != last.rows {
			last.rows, last.sql = rows, insertSQL(t, rows, db.dialect.bulkParams)
		}
		if _, err := e.ExecContext(ctx, last.sql, args...); err != nil {
			return err
		}
	}
	return nil
}

// insertSQL returns INSERT INTO t (columns) VALUES ($1, …), (…) for rows
// rows. params "$" numbers the parameters ($1, $2, …), "?" leaves them
// anonymous (?, ?, …).
func insertSQL(t table, rows int, params string) string {
	var b strings.Builder
	b.Grow(32 + len(t.name) + 16*len(t.columns) + rows*len(t.columns)*8)
	b.WriteString("INSERT INTO ")
	b.WriteString(t.name)
	b.WriteString(" (")
	b.WriteString(strings.Join(t.columns, ", "))
	b.WriteString(") VALUES ")
	p := 0
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range t.columns {
			if c > 0 {
				b.WriteString(", ")
			}
			p++
			b.WriteString(params)
			if params == "$" {
				b.WriteString(strconv.Itoa(p))
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// copyRows is a batch of rows for PostgreSQL's COPY: n rows into t, row(i)
// returning the values of row i.
type copyRows struct {
	t   table
	n   int
	row func(i int) []any
}

// copyInTx writes each batch with COPY FROM STDIN, all in one transaction,
// which it commits if every batch is written. A row that breaks a
// constraint fails its whole COPY, and the transaction with it, so the
// batches are stored all or none.
//
// COPY is PostgreSQL's bulk load. Importing batches of 1000 residents, it
// took about 10% less server CPU than multi-row INSERTs of the same rows
// (or INSERT … SELECT FROM unnest of arrays) and a third of the client CPU,
// which has no parameters to bind.
//
// database/sql knows nothing of COPY, so copyInTx takes a connection from
// the pool and works on the pgx connection beneath it; the pool discards
// that connection if it is left in a transaction.
func (db *DB) copyInTx(ctx context.Context, batches ...copyRows) error {
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("COPY needs the pgx driver (github.com/jackc/pgx/v5/stdlib), not %T", driverConn)
		}
		return pgx.BeginFunc(ctx, c.Conn(), func(tx pgx.Tx) error {
			for _, b := range batches {
				if b.n == 0 {
					continue
				}
				src := pgx.CopyFromSlice(b.n, func(i int) ([]any, error) { return b.row(i), nil })
				if _, err := tx.CopyFrom(ctx, pgx.Identifier{b.t.name}, b.t.columns, src); err != nil {
					return err
				}
			}
			return nil
		})
	})
}
