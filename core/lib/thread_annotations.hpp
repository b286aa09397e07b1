// Clang's thread-safety attributes, so the compiler checks the core's lock
// discipline (docs/locking.md). Each macro names what it states about a lock
// (a "capability"): which data it guards, which locks a function needs, takes
// or drops. Clang checks them with -Wthread-safety (the `lint` test compiles
// every core source that way); every other compiler sees nothing, and the
// normal build (GCC) is unchanged.
//
// The analysis is per function and follows lock expressions as written
// (`object->lock`, `as.lock`): a lock held through a flag, or named through a
// different path than the one it was taken by, is beyond it. Such places are
// exempted with NO_THREAD_SAFETY_ANALYSIS and a comment saying why; the
// simulator checks them at run time instead (Platform::assert_held).
#pragma once

#if defined(__clang__)
#define VM_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define VM_THREAD_ANNOTATION(x)
#endif

// A type whose objects are locks; `name` appears in the warnings ("mutex").
#define CAPABILITY(name) VM_THREAD_ANNOTATION(capability(name))
// A type whose objects hold a lock for their lifetime (MutexLocker).
#define SCOPED_CAPABILITY VM_THREAD_ANNOTATION(scoped_lockable)

// A field that may be read or written only while holding the lock.
#define GUARDED_BY(lock) VM_THREAD_ANNOTATION(guarded_by(lock))
// A pointer field whose pointee may be used only while holding the lock.
#define PT_GUARDED_BY(lock) VM_THREAD_ANNOTATION(pt_guarded_by(lock))

// The caller must hold the locks (exclusively / at least shared).
#define REQUIRES(...) VM_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) VM_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
// The function takes the locks and returns holding them.
#define ACQUIRE(...) VM_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
// The function drops the locks, which the caller held.
#define RELEASE(...) VM_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
// The function takes the locks when it returns `result`.
#define TRY_ACQUIRE(...) VM_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
// The caller must not hold the locks (the function takes them itself).
#define EXCLUDES(...) VM_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
// The function checks at run time that the locks are held, and the analysis
// takes them as held from there on (Platform::assert_held).
#define ASSERT_CAPABILITY(...) VM_THREAD_ANNOTATION(assert_capability(__VA_ARGS__))
// The function returns a reference to the lock named (an accessor).
#define RETURN_CAPABILITY(lock) VM_THREAD_ANNOTATION(lock_returned(lock))
// Turns the analysis off for one function. Every use says why next to it.
#define NO_THREAD_SAFETY_ANALYSIS VM_THREAD_ANNOTATION(no_thread_safety_analysis)
