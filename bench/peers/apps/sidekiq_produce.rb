# Sidekiq producer for bench/peers: `ruby sidekiq_produce.rb JOBS BATCH`.
# Prints "ready", waits for a line on stdin (so several producers start
# together), pushes JOBS NoopJobs one by one (BATCH 1, Sidekiq::Client.push)
# or BATCH at a time (Sidekiq::Client.push_bulk), then prints first_send and
# last_reply on CLOCK_MONOTONIC (the clock the Python driver reads).
require_relative "sidekiq_app"

jobs = Integer(ARGV.fetch(0))
batch = Integer(ARGV.fetch(1, "1"))
Sidekiq.redis { |r| r.ping } # connect before the clock starts
$stdout.puts "ready"
$stdout.flush
$stdin.gets
first = Process.clock_gettime(Process::CLOCK_MONOTONIC)
if batch <= 1
  jobs.times { Sidekiq::Client.push("class" => NoopJob, "args" => []) }
else
  left = jobs
  while left > 0
    n = [batch, left].min
    Sidekiq::Client.push_bulk("class" => NoopJob, "args" => Array.new(n) { [] })
    left -= n
  end
end
last = Process.clock_gettime(Process::CLOCK_MONOTONIC)
puts "first_send #{first}"
puts "last_reply #{last}"
