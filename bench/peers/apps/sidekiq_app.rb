# Sidekiq workers for bench/peers: a no-op that counts itself and a sleeper
# for the stuck test. Per-job log lines off (logger at WARN), as for every
# system here.
require "sidekiq"

Sidekiq.configure_server { |config| config.logger.level = Logger::WARN }
Sidekiq.configure_client { |config| config.logger.level = Logger::WARN }

class NoopJob
  include Sidekiq::Worker
  sidekiq_options retry: false

  def perform
    Sidekiq.redis { |r| r.incr("bench:done") }
  end
end

class SleepJob
  include Sidekiq::Worker
  sidekiq_options retry: false

  def perform
    Sidekiq.redis { |r| r.incr("bench:starts:#{jid}") }
    sleep 3600
  end
end
