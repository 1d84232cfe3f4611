// allocation-service tests — child processes (the service, redis-server) for tests that drive
// real programs: start, read their output line by line, signal, wait.
// SPDX-License-Identifier: MIT
#ifndef ALLOCATION_TESTS_SERVICE_PROCESS_HPP
#define ALLOCATION_TESTS_SERVICE_PROCESS_HPP

#include <fcntl.h>       // fcntl, O_NONBLOCK
#include <netinet/in.h>  // sockaddr_in
#include <poll.h>        // poll
#include <signal.h>      // kill, SIGTERM, SIGKILL
#include <sys/prctl.h>   // prctl, PR_SET_PDEATHSIG
#include <sys/socket.h>  // socket, bind
#include <sys/wait.h>    // waitpid
#include <unistd.h>      // pipe, fork, execve, close, read

#include <chrono>       // steady_clock
#include <cstdlib>      // mkdtemp
#include <filesystem>   // path, remove_all, temp_directory_path
#include <optional>     // optional
#include <stdexcept>    // runtime_error
#include <string>       // string
#include <thread>       // sleep_for
#include <utility>      // exchange
#include <vector>       // vector

#include <hiredis/hiredis.h>

extern char** environ;  // NOLINT: POSIX

namespace allocation::test {

/// A port on 127.0.0.1 that was free a moment ago.
inline auto free_port() -> int {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("bind failed");
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

/// A temporary directory removed with everything in it.
class temp_dir {
public:
    temp_dir() {
        auto pattern = (std::filesystem::temp_directory_path() / "allocation-test-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    temp_dir(const temp_dir&) = delete;
    auto operator=(const temp_dir&) -> temp_dir& = delete;
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    [[nodiscard]] auto path() const -> const std::filesystem::path& { return path_; }

private:
    std::filesystem::path path_;
};

/// A child process whose stdout is read line by line (stderr is inherited, so its log shows in
/// the test output). Killed when destroyed, if still running, and when the test process dies.
class child_process {
public:
    /// Starts `argv[0]` with `argv`; `env` entries ("NAME=value") are added to the environment;
    /// with `stderr_file`, its stderr goes to that file instead of the test's.
    explicit child_process(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
                           const std::string& stderr_file = {}) {
        int fds[2];
        if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
        if (argv.empty()) throw std::runtime_error("no program to start");
        // Everything the child needs is built before fork(): after it, in a process with
        // threads, the child only makes system calls until execve().
        const int err_fd = stderr_file.empty() ? -1 : ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        std::vector<std::string> env_strings;
        for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
        env_strings.insert(env_strings.end(), env.begin(), env.end());
        std::vector<char*> envp;
        for (auto& e : env_strings) envp.push_back(e.data());
        envp.push_back(nullptr);
        const pid_t parent = ::getpid();
        pid_ = ::fork();
        if (pid_ == 0) {
            // The child dies with the test: a test that crashes must not leave a server behind
            // holding the test runner's output open.
            if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(127);
            ::dup2(fds[1], STDOUT_FILENO);
            if (err_fd >= 0) ::dup2(err_fd, STDERR_FILENO);
            ::close(fds[0]);
            ::close(fds[1]);
            ::execve(args[0], args.data(), envp.data());
            ::_exit(127);
        }
        if (err_fd >= 0) ::close(err_fd);
        ::close(fds[1]);
        if (pid_ < 0) {
            ::close(fds[0]);
            throw std::runtime_error("cannot start " + argv.at(0));
        }
        out_ = fds[0];
        ::fcntl(out_, F_SETFL, ::fcntl(out_, F_GETFL) | O_NONBLOCK);
    }
    child_process(const child_process&) = delete;
    auto operator=(const child_process&) -> child_process& = delete;
    ~child_process() {
        if (pid_ > 0 && !exit_code_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        if (out_ >= 0) ::close(out_);
    }

    /// The next line of stdout, without its newline; none at end of output or after `timeout`.
    auto read_line(std::chrono::milliseconds timeout) -> std::optional<std::string> {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
                auto line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return line;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return std::nullopt;
            pollfd pfd{out_, POLLIN, 0};
            if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
            char chunk[4096];
            const auto n = ::read(out_, chunk, sizeof chunk);
            if (n == 0) return std::nullopt;  // end of output
            if (n > 0) buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

    /// Reads lines until one starts with `prefix`; returns it.
    auto wait_for_line(const std::string& prefix, std::chrono::milliseconds timeout) -> std::optional<std::string> {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            auto line = read_line(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
            if (!line) return std::nullopt;
            if (line->starts_with(prefix)) return line;
        }
        return std::nullopt;
    }

    void signal(int sig) const { ::kill(pid_, sig); }

    /// Waits for the exit; the exit code (128 + signal when killed), or none after `timeout`.
    auto wait(std::chrono::milliseconds timeout) -> std::optional<int> {
        if (exit_code_) return exit_code_;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            int status = 0;
            const auto r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_) {
                exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                return exit_code_;
            }
            if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }

    [[nodiscard]] auto pid() const noexcept -> pid_t { return pid_; }

private:
    pid_t pid_ = -1;
    int out_ = -1;
    std::string buffer_;
    std::optional<int> exit_code_;
};

/// A redis-server on 127.0.0.1, without persistence, started for a test and stopped after it.
class redis_server {
public:
    explicit redis_server(std::string executable, int port = free_port()) : exe_(std::move(executable)), port_(port) { start(); }

    [[nodiscard]] auto port() const noexcept -> int { return port_; }
    [[nodiscard]] auto url() const -> std::string { return "redis://127.0.0.1:" + std::to_string(port_); }

    /// Stops the server (SIGTERM, then SIGKILL) so clients see it go away.
    void stop() {
        if (!process_) return;
        process_->signal(SIGTERM);
        if (!process_->wait(std::chrono::seconds(5))) process_->signal(SIGKILL);
        (void)process_->wait(std::chrono::seconds(5));
        process_.reset();
    }

    /// Starts it again on the same port.
    void start() {
        process_.emplace(std::vector<std::string>{exe_, "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                                  "--save", "", "--appendonly", "no", "--daemonize", "no",
                                                  "--loglevel", "warning"});
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            timeval tv{0, 200'000};
            redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
            const bool up = c != nullptr && c->err == 0;
            if (c != nullptr) redisFree(c);
            if (up) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        throw std::runtime_error("redis-server did not start on port " + std::to_string(port_));
    }

    ~redis_server() { stop(); }
    redis_server(const redis_server&) = delete;
    auto operator=(const redis_server&) -> redis_server& = delete;

private:
    std::string exe_;
    int port_;
    std::optional<child_process> process_;
};

}  // namespace allocation::test

#endif  // ALLOCATION_TESTS_SERVICE_PROCESS_HPP
