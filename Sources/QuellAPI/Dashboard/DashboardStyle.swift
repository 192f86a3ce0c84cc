/// The dashboard's style sheet, served as `/app.css` (see `Dashboard`).
enum DashboardStyle {
    static let source = #"""
/* Quell's web dashboard. One column up to 1200 px; job rows are a grid that
   stacks below 900 px. Labels that change (Stop / Stopping… / Cancelled) sit in
   boxes of a fixed minimum width, and numbers use tabular figures, so nothing
   moves when they change. */
:root {
  --bg: #f5f6f8; --panel: #fff; --ink: #16181d; --muted: #565d6b; --line: #d9dde4;
  --accent: #1d4ed8; --accent-ink: #fff; --danger: #b42318; --ok: #067647; --warn: #9a5b00;
  --focus: #f59e0b; --radius: 8px;
  color-scheme: light;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", Arial, sans-serif;
}
main { max-width: 1200px; margin: 0 auto; padding: 0 16px 48px; }
h1 { font-size: 20px; margin: 0; letter-spacing: .02em; }
h2 { font-size: 17px; margin: 0 0 12px; }
h3 { font-size: 13px; margin: 0 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: .05em; }
code { font: 13px/1.3 ui-monospace, "Liberation Mono", Menlo, monospace; overflow-wrap: anywhere; }
[hidden] { display: none !important; }

.skip { position: absolute; left: -9999px; top: 8px; background: var(--panel); padding: 8px 12px; z-index: 10; }
.skip:focus { left: 8px; }

.top {
  display: flex; align-items: center; gap: 8px 12px; flex-wrap: wrap;
  max-width: 1200px; margin: 0 auto; padding: 14px 16px;
}
.conn {
  display: inline-block; min-width: 10.5em; padding: 2px 8px; border-radius: 999px;
  font-size: 13px; background: #e7e9ee; color: var(--muted); text-align: center;
}
.conn[data-stream="live"] { background: #dcfae6; color: var(--ok); }
.conn[data-stream="down"] { background: #fef0c7; color: var(--warn); }
#sign-out { margin-left: auto; }

.panel {
  background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius);
  padding: 16px; margin: 0 0 16px;
}
.section-head { display: flex; align-items: center; justify-content: space-between; gap: 12px; flex-wrap: wrap; margin-bottom: 8px; }
.section-head h2 { margin: 0; }

/* Controls */
button, input, select, textarea { font: inherit; color: inherit; }
input, select, textarea {
  border: 1px solid #aeb4bf; border-radius: 6px; padding: 6px 8px; background: #fff; min-width: 0;
}
textarea { width: 100%; resize: vertical; font: 13px/1.4 ui-monospace, "Liberation Mono", Menlo, monospace; }
button {
  border: 1px solid #aeb4bf; border-radius: 6px; padding: 6px 14px; background: #fff; cursor: pointer;
  white-space: nowrap; text-align: center;
}
button:hover { background: #f0f2f5; }
button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-ink); min-width: 9em; }
button.primary:hover { background: #1e40af; }
button.danger { background: var(--danger); border-color: var(--danger); color: #fff; }
button.quiet { border-color: transparent; background: transparent; color: var(--accent); }
button[disabled], button[aria-disabled="true"] { cursor: default; }
button[disabled] { opacity: .6; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
input:focus-visible, select:focus-visible, textarea:focus-visible { outline-offset: 0; }

label { font-size: 13px; color: var(--muted); }
.field { display: flex; flex-direction: column; gap: 4px; min-width: 0; }
fieldset.field { border: 0; padding: 0; margin: 0; flex-direction: row; gap: 14px; align-items: center; flex-wrap: wrap; }
fieldset.field legend { font-size: 13px; color: var(--muted); padding: 0; margin-bottom: 4px; width: 100%; }
fieldset.field label { color: var(--ink); font-size: 15px; display: inline-flex; gap: 6px; align-items: center; }

.signin { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.signin input { flex: 1 1 16em; }
.hint { color: var(--muted); font-size: 13px; margin: 8px 0 0; }

.start { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; align-items: end; }
.start .mode, .start .params, .start .submit { grid-column: 1 / -1; }
@media (min-width: 900px) {
  .start { grid-template-columns: 12rem 12rem auto 1fr auto; }
  .start .mode, .start .params, .start .submit { grid-column: auto; }
}
.message { margin: 10px 0 0; min-height: 1.45em; color: var(--muted); overflow-wrap: anywhere; }
.message:empty { min-height: 0; margin: 0; }
.message.error { color: var(--danger); }

.conflict {
  margin-top: 12px; padding: 12px; border-radius: 6px; border: 1px solid #f5c26b; background: #fffaeb;
  display: flex; gap: 12px; align-items: center; justify-content: space-between; flex-wrap: wrap;
}
.conflict p { margin: 0; flex: 1 1 20em; overflow-wrap: anywhere; }
.actions { display: flex; gap: 8px; flex-wrap: wrap; }

.filters { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.filters input { width: 10em; }
.filter-field { display: inline-flex; gap: 6px; align-items: center; }

/* Jobs */
.job-list { list-style: none; margin: 0; padding: 0; }
.job, .jobs-head {
  display: grid; gap: 4px 12px; align-items: center;
  grid-template-columns: 1fr auto;
  grid-template-areas: "status action" "what what" "progress progress" "counters counters" "time beat" "error error";
}
.jobs-head { display: none; }
.job { border-top: 1px solid var(--line); padding: 10px 0; }
.job.is-stale { background: linear-gradient(90deg, #fff4e5, transparent 60%); }
.c-status { grid-area: status; display: flex; gap: 8px; align-items: baseline; flex-wrap: wrap; min-width: 0; }
.c-what { grid-area: what; min-width: 0; display: flex; flex-wrap: wrap; gap: 0 8px; align-items: baseline; }
.c-progress { grid-area: progress; display: flex; align-items: center; gap: 4px 8px; min-width: 0; flex-wrap: wrap; }
.c-counters { grid-area: counters; display: flex; flex-wrap: wrap; gap: 0 12px; font-variant-numeric: tabular-nums; }
.c-time { grid-area: time; color: var(--muted); font-variant-numeric: tabular-nums; font-size: 13px; }
.c-beat { grid-area: beat; color: var(--muted); font-variant-numeric: tabular-nums; font-size: 13px; text-align: right; }
.c-action { grid-area: action; justify-self: end; }
.c-error { grid-area: error; color: var(--danger); font-size: 13px; overflow-wrap: anywhere; }
.c-error:empty { display: none; }
@media (min-width: 900px) {
  .job, .jobs-head {
    grid-template-columns: 8rem minmax(0, 1.8fr) minmax(0, 1.2fr) minmax(0, .9fr) 8rem 6.5rem 8.5rem;
    grid-template-areas: "status what progress counters time beat action" "error error error error error error error";
  }
  .jobs-head { display: grid; font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .05em; padding-bottom: 6px; }
  .jobs-head span:nth-child(1) { grid-area: status; } .jobs-head span:nth-child(2) { grid-area: what; }
  .jobs-head span:nth-child(3) { grid-area: progress; } .jobs-head span:nth-child(4) { grid-area: counters; }
  .jobs-head span:nth-child(5) { grid-area: time; } .jobs-head span:nth-child(6) { grid-area: beat; text-align: right; }
  .jobs-head span:nth-child(7) { grid-area: action; }
  .c-status { flex-direction: column; gap: 2px; }
  .c-progress progress { flex-basis: 100%; }
}
.type { font-weight: 600; }
.key { font-family: ui-monospace, "Liberation Mono", Menlo, monospace; font-size: 14px; overflow-wrap: anywhere; }
.key.none { color: var(--muted); font-family: inherit; }
.meta { flex-basis: 100%; color: var(--muted); font-size: 12px; overflow-wrap: anywhere; font-variant-numeric: tabular-nums; }
.stage { color: var(--muted); font-size: 12px; }
.progress-text { font-size: 13px; color: var(--muted); font-variant-numeric: tabular-nums; white-space: nowrap; min-width: 7.5em; }
progress { flex: 1 1 auto; min-width: 4rem; height: 10px; appearance: none; border: 0; border-radius: 5px; background: #e7e9ee; overflow: hidden; }
progress::-webkit-progress-bar { background: #e7e9ee; border-radius: 5px; }
progress::-webkit-progress-value { background: var(--accent); border-radius: 5px; }
.counter b { font-weight: 600; }
.beat.stale { color: var(--warn); font-weight: 600; }

.badge {
  display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600;
  background: #e7e9ee; color: #3a404c; white-space: nowrap;
}
.s-running { background: #dbe7ff; color: #1e3a8a; }
.s-queued { background: #eef0f3; color: #3a404c; }
.s-pausing, .s-paused { background: #efe7fb; color: #5b21b6; }
.s-cancelling { background: #fef0c7; color: #7a4b00; }
.s-completed { background: #dcfae6; color: #055d38; }
.s-completed_with_errors { background: #fdf2d0; color: #7a4b00; }
.s-failed, .s-timed_out { background: #fee4e2; color: #912018; }
.s-cancelled { background: #f2f4f7; color: #344054; }

/* The one action of a row: same box whatever it says. */
button.stop { min-width: 8.5em; }
button.stop[data-kind="stop"] { border-color: var(--danger); color: var(--danger); }
button.stop[data-kind="stop"]:hover { background: #fef3f2; }
button.stop[data-kind="stopping"] { background: #fffaeb; border-color: #f5c26b; color: #7a4b00; }
button.stop[data-kind="final"] { background: #f2f4f7; border-color: var(--line); color: var(--muted); }
#more { margin-top: 12px; }
.empty { color: var(--muted); }

/* Operations */
.ops-grid { display: grid; gap: 16px; grid-template-columns: 1fr; margin-top: 8px; }
@media (min-width: 900px) { .ops-grid { grid-template-columns: 1.2fr 1fr 1.6fr; } }
.counts { display: flex; flex-wrap: wrap; gap: 6px; margin: 0; }
.count { display: flex; gap: 6px; align-items: baseline; padding: 2px 10px; border-radius: 999px; font-size: 13px; }
.count dt { margin: 0; }
.count dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; width: 100%; font-size: 13px; table-layout: fixed; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
th { color: var(--muted); font-weight: 600; overflow-wrap: normal; white-space: nowrap; }
td.num { font-variant-numeric: tabular-nums; }
td.beat { font-variant-numeric: tabular-nums; }
td.beat.stale { color: var(--warn); font-weight: 600; }
#workers { table-layout: auto; }
#workers td.num, #workers td.beat { white-space: nowrap; }
tr.none td { color: var(--muted); }

dialog {
  border: 1px solid var(--line); border-radius: var(--radius); padding: 20px; max-width: min(30rem, calc(100vw - 32px));
  box-shadow: 0 10px 30px rgba(0, 0, 0, .2);
}
dialog::backdrop { background: rgba(16, 24, 40, .45); }
dialog p { overflow-wrap: anywhere; }
dialog .actions { justify-content: flex-end; margin-top: 16px; }
"""#
}
