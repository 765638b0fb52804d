#include "daemon/sync/remote_sync.hpp"

#include <algorithm>

#include "daemon/base/keep_running.hpp"
#include "daemon/base/log.hpp"
#include "daemon/base/timefmt.hpp"

namespace calloutd {
namespace {

// Pushes the remote rejects in a row before waiting (others keep pushing).
constexpr int k_max_rejections = 5;
// How long to let commits gather before a push.
constexpr auto k_push_delay = std::chrono::milliseconds(100);
// How often to look for commits to push that nothing announced (the 4-hour
// rule's and the scanner's own commits), and to refresh the gauges.
constexpr auto k_idle_check = std::chrono::seconds(2);

}  // namespace

RemoteSync::RemoteSync(const Config& config, GitRepository& repository, Engine& engine,
                       Journal& journal, Pipeline& pipeline, Metrics& metrics)
    : m_config(config),
      m_repository(repository),
      m_engine(engine),
      m_journal(journal),
      m_pipeline(pipeline),
      m_metrics(metrics),
      m_remote(config.remote, repository.options().path, config.branch) {
  m_journal.track_pushed();
  m_metrics.enable_remote();
  m_remote_head = m_repository.ref_target(m_remote.tracking_ref());
}

RemoteSync::~RemoteSync() {
  stop();
}

void RemoteSync::start() {
  m_thread = std::thread([this] { keep_running("remote", [this] { run(); }); });
}

void RemoteSync::poke() {
  {
    std::lock_guard lock(m_mutex);
    m_poked = true;
  }
  m_wake.notify_one();
}

void RemoteSync::stop() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_wake.notify_one();
  if (m_thread.joinable()) {
    m_thread.join();
  }
}

void RemoteSync::final_push() {
  if (sync_once(false) == Sync::retry) {
    log::warn("stopping with commits the remote does not have; they are pushed at the next start",
              {{"remote", m_config.remote.url}});
  }
}

void RemoteSync::run() {
  using clock = std::chrono::steady_clock;
  auto next_fetch = clock::now();  // catch up with the remote first
  auto retry_at = clock::time_point::max();
  std::chrono::seconds delay{1};
  std::unique_lock lock(m_mutex);
  while (!m_stopping) {
    auto wake_at = std::min({retry_at != clock::time_point::max() ? retry_at : next_fetch,
                             clock::now() + k_idle_check});
    m_wake.wait_until(lock, wake_at, [&] { return m_stopping || m_poked; });
    if (m_stopping) {
      break;
    }
    bool poked = std::exchange(m_poked, false);
    lock.unlock();
    auto now = clock::now();
    bool backing_off = retry_at != clock::time_point::max();
    bool fetch = now >= next_fetch && !backing_off;  // while backing off, only the retries
    bool retry = now >= retry_at;
    if (poked && !retry && backing_off) {
      poked = false;  // backing off: a new commit waits for the retry
    }
    Sync result = Sync::done;
    if (poked || fetch || retry) {
      if (poked) {
        std::this_thread::sleep_for(k_push_delay);
      }
      result = sync_once(fetch || retry);
      if (fetch || retry) {
        next_fetch = clock::now() + m_config.remote.fetch_interval;
      }
    } else {
      // Nothing announced: push a commit nothing announced, if there is one.
      auto head = on_strand([&] { return m_repository.head(); });
      if (!head.empty() && head != m_remote_head && !backing_off) {
        result = sync_once(false);
      } else {
        update_unpushed(head);
      }
    }
    if (result == Sync::retry) {
      retry_at = clock::now() + delay;
      delay =
          std::min(delay * 2, std::max(m_config.remote.max_retry_delay, std::chrono::seconds(1)));
    } else if (fetch || retry || poked) {
      retry_at = clock::time_point::max();
      delay = std::chrono::seconds(1);
    }
    lock.lock();
  }
}

RemoteSync::Sync RemoteSync::sync_once(bool fetch_first) {
  if (fetch_first && !fetch_and_reconcile()) {
    update_unpushed(on_strand([&] { return m_repository.head(); }));
    return Sync::retry;
  }
  for (int rejections = 0; rejections <= k_max_rejections; ++rejections) {
    if (auto result = push_head()) {
      return *result;
    }
  }
  return Sync::retry;  // others keep winning: try again shortly
}

bool RemoteSync::fetch_and_reconcile() {
  auto fetched = [&] {
    std::shared_lock fetching(m_repository.writing());  // it writes objects and a ref too
    return m_remote.fetch();
  }();
  m_metrics.count_fetch(fetched ? "ok" : "failed");
  if (!fetched) {
    trouble("cannot reach the remote; commits stay local and are retried", fetched.error());
    return false;
  }
  m_metrics.set_remote_up(true);
  m_remote_head = *fetched;
  on_strand([&] { reconcile(m_remote_head); });
  return true;
}

std::optional<RemoteSync::Sync> RemoteSync::push_head() {
  // What to push, and the journal's applied mark it contains.
  // Not a structured binding: clang 14 (the fuzz build) cannot capture one.
  const auto at_head =
      on_strand([&] { return std::make_pair(m_repository.head(), m_journal.applied()); });
  const std::string& head = at_head.first;
  const auto applied = at_head.second;
  if (head.empty() || head == m_remote_head) {
    trouble_over("the remote is in step again");
    m_journal.mark_pushed(applied);
    update_unpushed(head);
    return Sync::done;
  }
  auto pushed = [&] {
    std::shared_lock pushing(m_repository.writing());  // no gc starts while a push runs
    return m_remote.push(head);
  }();
  m_metrics.count_push(pushed.status == Remote::PushStatus::pushed     ? "pushed"
                       : pushed.status == Remote::PushStatus::rejected ? "rejected"
                                                                       : "failed");
  if (pushed.status == Remote::PushStatus::pushed) {
    m_remote_head = head;
    m_journal.mark_pushed(applied);
    m_metrics.set_remote_up(true);
    trouble_over("pushed again after trouble with the remote");
    log::debug("pushed", {{"commit", head.substr(0, 12)}});
    update_unpushed(head);
    return Sync::done;
  }
  if (pushed.status == Remote::PushStatus::failed) {
    trouble("cannot push; commits stay local and are retried", pushed.error);
    update_unpushed(head);
    return Sync::retry;
  }
  auto before = m_remote_head;
  if (!fetch_and_reconcile()) {
    update_unpushed(head);
    return Sync::retry;
  }
  if (m_remote_head == before) {
    // Refused although the remote did not move: a protected branch, a hook.
    trouble("the remote refused the push; commits stay local and are retried", pushed.error);
    update_unpushed(head);
    return Sync::retry;
  }
  log::info("the remote moved; applied the daemon's events again on its head",
            {{"reason", pushed.error}});
  return std::nullopt;
}

void RemoteSync::reconcile(const std::string& remote_head) {
  auto local = m_repository.head();
  if (remote_head.empty() || remote_head == local || m_repository.is_ancestor(remote_head, local)) {
    return;  // nothing new there; what is local gets pushed
  }
  if (m_repository.is_ancestor(local, remote_head)) {
    auto moved = m_repository.move_branch(local, remote_head, "fast-forward to the remote");
    if (moved.status == CommitStatus::committed) {
      m_engine.refresh(local, remote_head);
      m_pipeline.publish();
      log::info("fetched commits from the remote", {{"head", remote_head.substr(0, 12)}});
    }
    return;
  }
  // Both moved. Commits people made in the daemon's own clone go onto the
  // remote's head as they are; the daemon's own are made again from the journal.
  auto keep_local = [&] {
    std::string ref =
        "refs/calloutd/kept/" + format_rfc3339_millis(std::chrono::system_clock::now());
    std::replace(ref.begin(), ref.end(), ':', '-');
    m_repository.keep(ref, local);
    return ref;
  };
  if (!m_repository.related(local, remote_head)) {
    // Another repository's history (a remote configured over a repository
    // that already had callouts): the journal may no longer hold all of them.
    log::error(
        "the remote's history is unrelated to the local repository's; following the remote, "
        "the local history is kept under a ref",
        {{"ref", keep_local()}, {"remote", m_config.remote.url}});
  }
  auto carried = m_repository.carry_over(remote_head, local, remote_head);
  if (!carried.head) {
    log::warn("local commits by people conflict with the remote; kept under a ref, not pushed",
              {{"ref", keep_local()}, {"commits", std::to_string(carried.commits)}});
  } else if (carried.commits > 0) {
    log::info("carried local commits by people over onto the remote's head",
              {{"commits", std::to_string(carried.commits)}});
  }
  auto target = carried.head.value_or(remote_head);
  auto moved = m_repository.move_branch(local, target, "reset to the remote's head");
  if (moved.status != CommitStatus::committed) {
    log::error("cannot move the branch to the remote's head", {{"error", moved.error}});
    return;
  }
  m_engine.refresh(local, target);
  // Past the applied mark too: events applied after one held for its group
  // (the pipeline skips the held ones; they wait for their group).
  auto records = m_journal.applied_after(m_journal.pushed(), m_pipeline.processed());
  auto changed = m_pipeline.reapply(records);
  m_pipeline.publish();
  log::info("applied the daemon's unpushed events on the remote's head",
            {{"events", std::to_string(records.size())}, {"changed", std::to_string(changed)}});
}

void RemoteSync::trouble(const std::string& what, const std::string& error) {
  m_metrics.set_remote_up(false);
  if (error != m_trouble) {
    log::error(what, {{"error", error}});  // once per distinct problem, not per retry
    m_trouble = error;
  }
}

void RemoteSync::trouble_over(const std::string& what) {
  if (!m_trouble.empty()) {
    log::info(what, {{"remote", m_config.remote.url}});
    m_trouble.clear();
  }
}

void RemoteSync::update_unpushed(const std::string& head) {
  auto u = m_remote.unpushed(head);
  double age = 0;
  if (u.commits > 0) {
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    age = static_cast<double>(std::max<std::int64_t>(0, now - u.oldest_time));
  }
  m_metrics.set_unpushed(u.commits, age);
}

}  // namespace calloutd
