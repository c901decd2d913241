// Checks that throw engine::Error with a message naming the context, the value given and the rule.
// ENGINE_CHECK is for API, op, flag and file boundaries; ENGINE_DCHECK is for kernel preconditions and vanishes
// under NDEBUG (-c opt). Nothing here catches: errors are caught only in main().
#ifndef ENGINE_BASE_CHECK_H_
#define ENGINE_BASE_CHECK_H_

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace engine {

// The one error type of the engine. what() reads "<context>: <value given>; expected <rule>", the words a user
// reads; location() is where it was raised ("config.cc:186"), for debugging (mains print it when ENGINE_DEBUG is
// set in the environment).
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, std::string location = "")
      : std::runtime_error(message), location_(std::move(location)) {}
  const std::string& location() const { return location_; }

 private:
  std::string location_;
};

// "what" (and " [raised at file:line]" when ENGINE_DEBUG is set): how every main prints an Error.
std::string Describe(const Error& e);

namespace internal {

template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

[[noreturn]] void Fail(const char* file, int line, const char* condition, const std::string& message);

}  // namespace internal
}  // namespace engine

#define ENGINE_CHECK(cond, ...)                                                                         \
  do {                                                                                                  \
    if (!(cond)) ::engine::internal::Fail(__FILE__, __LINE__, #cond, ::engine::internal::Cat(__VA_ARGS__)); \
  } while (0)

#ifdef NDEBUG
#define ENGINE_DCHECK(cond) \
  do {                      \
  } while (0)
#else
#define ENGINE_DCHECK(cond) ENGINE_CHECK(cond, "internal precondition")
#endif

#endif  // ENGINE_BASE_CHECK_H_
