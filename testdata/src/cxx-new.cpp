// Needs GLIBCXX_3.4.30: std::condition_variable::wait(unique_lock&) got a new symbol version in GCC 12's libstdc++.
#include <condition_variable>
#include <mutex>

static std::mutex m;
static std::condition_variable cv;
static bool ready;

extern "C" void wait_ready(void)
{
    std::unique_lock<std::mutex> lk(m);
    while (!ready)
        cv.wait(lk);
}

extern "C" void set_ready(void)
{
    {
        std::lock_guard<std::mutex> g(m);
        ready = true;
    }
    cv.notify_all();
}
