// Needs only old GLIBCXX versions (at most GLIBCXX_3.4.21, the C++11 std::string ABI): negative case for the libstdc++ check.
#include <string>

extern "C" unsigned long greeting_length(const char *name)
{
    std::string s("hello, ");
    s += name;
    return s.size();
}
