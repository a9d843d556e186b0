"""One stack frame -> a ``frame`` grouping component.

A frame is described by its module (or, without one, its file's basename),
its function and, on platforms whose source is reliable, its context line.
Line and column numbers never count: adding code above a bug must not split
the issue.  Platform quirks (generated Java classes, JavaScript anonymous
functions, Ruby blocks, ...) are normalised so builds and browsers agree.
"""

from __future__ import annotations

import re

from .component import GroupingComponent, make
from .config import GroupingConfig
from .event import Frame, behavior_family
from .functions import trim_function_name

_RUBY_ERB_SUFFIX = re.compile(r"__\d{4,}_\d{4,}$")
_JAVA_REFLECT = re.compile(r"(sun\.reflect\.Generated(?:Serialization)?ConstructorAccessor)\d+")
_JAVA_CGLIB = re.compile(r"(\$\$[\w_]+?CGLIB\$\$)[a-fA-F0-9]+(_[0-9]+)?")
_JAVA_ASSIST = re.compile(r"(\$\$_javassist)(?:_seam)?(?:_[0-9]+)?")
_CLOJURE_FN = re.compile(r"(\$fn__)\d+")
_JAVA_ENHANCER_BY = re.compile(r"(\$\$?EnhancerBy[\w_]+?\$?\$)[a-fA-F0-9]+(_[0-9]+)?")
_JAVA_FAST_CLASS_BY = re.compile(r"(\$\$?FastClassBy[\w_]+?\$?\$)[a-fA-F0-9]+(_[0-9]+)?")
_JAVA_HIBERNATE_PROXY = re.compile(r"(\$\$?HibernateProxy\$?\$)\w+(_[0-9]+)?")
_JAVA_CODEGEN = (
    _JAVA_REFLECT,
    _JAVA_CGLIB,
    _JAVA_ASSIST,
    _CLOJURE_FN,
    _JAVA_ENHANCER_BY,
    _JAVA_FAST_CLASS_BY,
    _JAVA_HIBERNATE_PROXY,
)
_REFLECTION_ACCESSORS = (
    "sun.reflect.GeneratedMethodAccessor",
    "jdk.internal.reflect.GeneratedMethodAccessor",
)
_JS_UNKNOWN_FUNCTIONS = frozenset(("?", "<anonymous function>", "<anonymous>", "Anonymous function"))
_JS_LOW_QUALITY_PATHS = frozenset(("[native code]", "native code", "eval code", "<anonymous>"))


def has_url_origin(path: str | None, files_count_as_urls: bool) -> bool:
    if not path:
        return False
    if path.startswith(("http:", "https:", "applewebdata:", "blob:")):
        return True
    return files_count_as_urls and path.startswith("file:")


def filename_component(frame: Frame, platform: str) -> GroupingComponent:
    if frame.filename is None:
        return make("filename")
    raw = frame.filename
    name = raw[max(raw.rfind("/"), raw.rfind("\\")) + 1 :].lower()
    comp = make("filename", [name])
    if has_url_origin(frame.abs_path, files_count_as_urls=False):
        comp.update(contributes=False, hint="ignored because the frame's path is a URL")
    elif name == "<anonymous>":
        comp.update(contributes=False, hint="ignored because the file name is anonymous")
    elif name == "[native code]":
        comp.update(contributes=False, hint="ignored because the file name means native code")
    elif platform == "java":
        cleaned = _JAVA_ASSIST.sub(r"\1<auto>", name)
        if cleaned != name:
            comp.update(values=[cleaned], hint="generated javassist part removed")
    return comp


def module_component(frame: Frame, platform: str) -> GroupingComponent:
    module = frame.module
    if module is None:
        return make("module")
    comp = make("module", [module])
    abs_path = frame.abs_path
    if platform == "javascript" and "/" in module and abs_path and abs_path.endswith(module):
        comp.update(contributes=False, hint="ignored because the module only repeats the path")
    elif platform == "java":
        _clean_java_module(comp, module)
    return comp


def _clean_java_module(comp: GroupingComponent, module: str) -> None:
    if "$$Lambda$" in module:
        comp.update(contributes=False, hint="ignored because it is a generated Java lambda class")
    for accessor in _REFLECTION_ACCESSORS:
        if module.startswith(accessor):
            comp.update(values=[accessor], hint="reflection accessor number removed")
            return
    cleaned = module
    for pattern in _JAVA_CODEGEN:
        cleaned = pattern.sub(r"\1<auto>", cleaned)
    if cleaned != module:
        comp.update(values=[cleaned], hint="generated class marker removed")


def function_component(
    frame: Frame, platform: str, family: str, context_line_used: bool
) -> GroupingComponent:
    if platform == "csharp":
        func = frame.raw_function or frame.function
    else:
        func = frame.function or frame.raw_function
        if not frame.raw_function and frame.function:
            func = trim_function_name(frame.function, platform)
    if not func:
        return make("function")
    comp = make("function", [func])
    if platform == "ruby":
        if func.startswith("block "):
            comp.update(values=["block"], hint="Ruby block")
        else:
            cleaned = _RUBY_ERB_SUFFIX.sub("", func)
            if cleaned != func:
                comp.update(values=[cleaned], hint="generated ERB template suffix removed")
    elif platform == "php":
        _clean_php_function(comp, func)
    elif platform == "java":
        if func.startswith("lambda$"):
            comp.update(contributes=False, hint="ignored because it is a Java lambda")
    elif family == "native" and func in ("<redacted>", "<unknown>"):
        comp.update(contributes=False, hint="ignored because the function is unknown")
    elif family == "javascript":
        short = func.rsplit(".", 1)[-1]
        if short != func:
            comp.update(values=[short], hint="object path removed from JavaScript function")
        if frame.sourcemap and context_line_used:
            comp.update(
                contributes=False,
                hint="ignored because a source map was used and the context line is available",
            )
    return comp


def _clean_php_function(comp: GroupingComponent, func: str) -> None:
    if func.startswith(("[Anonymous", "class@anonymous\x00")):
        comp.update(contributes=False, hint="ignored because it is an anonymous function")
    if func.startswith("class@anonymous"):
        method = func.rsplit("::", 1)[-1]
        if method != func:
            comp.update(values=[method], hint="anonymous class name removed")


def context_line_component(frame: Frame, family: str) -> GroupingComponent:
    raw = frame.context_line or ""
    line = " ".join(raw.split())
    if not line:
        return make("context_line")
    comp = make("context_line", [line])
    if len(raw) > 120:
        comp.update(contributes=False, hint="ignored because the line is too long")
    elif (
        family == "javascript"
        and not frame.function
        and has_url_origin(frame.abs_path, files_count_as_urls=True)
    ):
        comp.update(contributes=False, hint="ignored because the path is a URL and the function is unknown")
    return comp


def frame_component(frame: Frame, event_platform: str, config: GroupingConfig) -> GroupingComponent:
    platform = frame.platform or event_platform
    family = behavior_family(platform)
    filename = filename_component(frame, platform)
    module = module_component(frame, platform)
    if module.contributes and filename.contributes:
        filename.update(contributes=False, hint="ignored because the module takes precedence")
    context_line = None
    if frame.context_line and platform in config.contextline_platforms:
        context_line = context_line_component(frame, family)
    function = function_component(frame, platform, family, bool(context_line and context_line.contributes))
    values: list[GroupingComponent | str] = [module, filename, function]
    if context_line is not None:
        values.append(context_line)
    comp = make("frame", values, in_app=bool(frame.in_app))
    if family == "javascript":
        _js_frame_noise(frame, function, comp)
    return comp


def _js_frame_noise(frame: Frame, function: GroupingComponent, comp: GroupingComponent) -> None:
    # Decided after the frame is built: the frame keeps its original
    # "contributes" flag even when only its function is switched off.
    func = frame.raw_function or frame.function
    if func:
        func = func.rsplit(".", 1)[-1]
    if not func:
        function.update(contributes=False)
    elif func in _JS_UNKNOWN_FUNCTIONS or func.endswith("/<"):
        function.update(contributes=False, hint="ignored because the function name is unknown")
    if func == "eval" or frame.abs_path in _JS_LOW_QUALITY_PATHS:
        comp.update(contributes=False, hint="ignored because it is a low-quality JavaScript frame")
